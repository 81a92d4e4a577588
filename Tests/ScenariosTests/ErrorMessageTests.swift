import Foundation
import Testing

@testable import Scenarios

/// Golden error messages: the full `FILE:LINE:COLUMN: error: at PATH: MESSAGE` line for each kind of mistake.
///
/// Line numbers refer to `Support.scenario()`:
///  1 horizon, 2 warmup, 3 pools, 4 `- name: gpu`, 5 replicas, 6 station, 7 servers, 8 service,
///  9 workloads, 10 `- name: chat`, 11 rate.
@Suite struct ErrorMessageTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let text: String
        let expected: String
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(
            label: "empty file", text: "",
            expected:
                "t.yaml:1:1: error: the file has no content; expected a mapping with at least `horizon`, `pools` and `workloads`"
        ),
        Case(
            label: "whitespace and comments only", text: "  \n\n# nothing here\n",
            expected:
                "t.yaml:1:1: error: the file has no content; expected a mapping with at least `horizon`, `pools` and `workloads`"
        ),
        Case(
            label: "top-level list", text: "- horizon: 10m\n- pools: []\n",
            expected: "t.yaml:1:1: error: expected a mapping of scenario settings at the top level, found a list"),
        Case(
            label: "top-level scalar", text: "quickstart\n",
            expected:
                "t.yaml:1:1: error: expected a mapping of scenario settings at the top level, found \"quickstart\""),
        Case(
            label: "invalid YAML", text: "horizon: [10m, 1m\nwarmup: 1m\n",
            expected:
                "t.yaml:2:7: error: invalid YAML: while parsing a flow sequence at 1:10, did not find expected ',' or ']'"
        ),
        // At the end of a text without a final line break, libyaml names the line after the last; the error
        // points at the end of the text instead (found by the scenario fuzzer).
        Case(
            label: "invalid YAML cut short", text: "horizon: [10m, 1m",
            expected:
                "t.yaml:1:18: error: invalid YAML: while parsing a flow sequence at 1:10, did not find expected ',' or ']'"
        ),
        Case(
            label: "a key cut short at the end", text: "horizon: 10m\npools",
            expected:
                "t.yaml:2:6: error: invalid YAML: while scanning a simple key at 2:1, could not find expected ':'"
        ),
        Case(
            label: "tab indentation", text: "horizon: 10m\npools:\n\t- name: gpu\n",
            expected:
                "t.yaml:3:1: error: invalid YAML: while scanning for the next token at 3:1, found character that cannot start any token; YAML does not allow tabs for indentation, use spaces"
        ),
        Case(
            label: "two documents", text: "horizon: 10m\n---\nhorizon: 1m\n",
            expected:
                "t.yaml:2:1: error: invalid YAML: expected a single document in the stream at 1:1, but found another document"
        ),
        Case(
            label: "unknown key with a near miss",
            text: Support.scenario(["      servers: 1\n": "      servers: 1\n      max_queue: 5\n"]),
            expected:
                "t.yaml:8:7: error: at pools[0].station.max_queue: unknown key `max_queue`; did you mean `max-queue`?"),
        Case(
            label: "unknown top-level key with a typo", text: Support.scenario(["horizon:": "horizn:"]),
            expected: "t.yaml:1:1: error: at horizn: unknown key `horizn`; did you mean `horizon`?"),
        Case(
            label: "unknown key far from any", text: Support.scenario(appending: "colour: blue\n"),
            expected:
                "t.yaml:12:1: error: at colour: unknown key `colour`; expected one of: name, description, seed, replications, horizon, warmup, drain, drain-timeout, sample-interval, slo, policies, router, endpoint-picker, clusters, mesh, disaggregation, pools, workloads"
        ),
        Case(
            label: "unknown replica kind", text: Support.scenario(["    station:": "    stations:"]),
            expected: "t.yaml:6:5: error: at pools[0].stations: unknown key `stations`; did you mean `station`?"),
        Case(
            label: "wrong type", text: Support.scenario(["replicas: 4": "replicas: [4]"]),
            expected: "t.yaml:5:15: error: at pools[0].replicas: expected an integer in 1...100000, found a list"),
        Case(
            label: "negative replicas", text: Support.scenario(["replicas: 4": "replicas: -3"]),
            expected: "t.yaml:5:15: error: at pools[0].replicas: expected a positive integer, found -3"),
        Case(
            label: "too many replicas", text: Support.scenario(["replicas: 4": "replicas: 200000"]),
            expected: "t.yaml:5:15: error: at pools[0].replicas: expected an integer in 1...100000, found 200000"),
        Case(
            label: "zero rate", text: Support.scenario(["rate: 20/s": "rate: 0/s"]),
            expected:
                "t.yaml:11:11: error: at workloads[0].rate: expected a rate > 0 with a unit, like 20/s, 1200/m or 3/h, found \"0/s\""
        ),
        Case(
            label: "rate without a unit", text: Support.scenario(["rate: 20/s": "rate: 20"]),
            expected:
                "t.yaml:11:11: error: at workloads[0].rate: expected a rate > 0 with a unit, like 20/s, 1200/m or 3/h, found 20"
        ),
        Case(
            label: "NaN",
            text: Support.scenario(["{dist: exponential, mean: 1s}": "{dist: gamma, mean: 1s, cv: .nan}"]),
            expected: "t.yaml:8:44: error: at pools[0].station.service.cv: expected a finite number, found .nan"),
        Case(
            label: "integer too large for 64 bits",
            text: Support.scenario(appending: "seed: 99999999999999999999999\n"),
            expected:
                "t.yaml:12:7: error: at seed: expected an integer in 0...18446744073709551615, found 99999999999999999999999"
        ),
        Case(
            label: "duration too large", text: Support.scenario(["horizon: 10m": "horizon: 9999999h"]),
            expected:
                "t.yaml:1:10: error: at horizon: expected a duration of at most 2^63-1 ns (about 292 years), found \"9999999h\""
        ),
        Case(
            label: "bare number as a duration", text: Support.scenario(["horizon: 10m": "horizon: 600"]),
            expected:
                "t.yaml:1:10: error: at horizon: expected a duration > 0 with a unit (ns, us, ms, s, m, h), like 250ms or 2s, found 600"
        ),
        Case(
            label: "duplicate key", text: Support.scenario(appending: "warmup: 2m\n"),
            expected: "t.yaml:12:1: error: at warmup: duplicate key `warmup` (first at 2:1); keys must be unique"),
        Case(
            label: "duplicate key in a flow mapping",
            text: Support.scenario(["{dist: exponential, mean: 1s}": "{dist: exponential, mean: 1s, mean: 2s}"]),
            expected:
                "t.yaml:8:46: error: at pools[0].station.service.mean: duplicate key `mean` (first at 8:36); keys must be unique"
        ),
        Case(
            label: "duplicate pool name",
            text: Support.scenario([
                "workloads:": "  - {name: gpu, replicas: 1, station: {servers: 1, service: 1s}}\nworkloads:"
            ]),
            expected:
                "t.yaml:9:12: error: at pools[1].name: duplicate pool name `gpu` (first at 4:11); pool names must be unique"
        ),
        Case(
            label: "missing pool reference", text: Support.scenario(["rate: 20/s": "rate: 20/s\n    pool: gpus"]),
            expected: "t.yaml:12:11: error: at workloads[0].pool: unknown pool `gpus`; did you mean `gpu`?"),
        Case(
            label: "pool needed with two pools",
            text: Support.scenario([
                "workloads:": "  - {name: cpu, replicas: 1, station: {servers: 1, service: 1s}}\nworkloads:"
            ]),
            expected:
                "t.yaml:11:5: error: at workloads[0]: missing required key `pool` (with 2 pools, say which: gpu, cpu)"),
        Case(
            label: "warmup not before the horizon", text: Support.scenario(["warmup: 1m": "warmup: 10m"]),
            expected: "t.yaml:2:9: error: at warmup: expected a warmup shorter than the horizon (10m), found \"10m\""),
        Case(
            label: "missing required key", text: Support.scenario(["    replicas: 4\n": ""]),
            expected: "t.yaml:4:5: error: at pools[0]: missing required key `replicas` (an integer in 1...100000)"),
        Case(
            label: "missing horizon", text: Support.scenario(["horizon: 10m\n": ""]),
            expected:
                "t.yaml:1:1: error: missing required key `horizon` (a duration > 0, like 10m); only a scenario whose "
                + "workloads all send a fixed number of `requests` may leave it out"),
        Case(
            label: "missing replica kind block",
            text: Support.scenario([
                "    station:\n      servers: 1\n      service: {dist: exponential, mean: 1s}\n": ""
            ]),
            expected: "t.yaml:4:5: error: at pools[0]: expected one replica kind block: station, gpu"),
        Case(
            label: "unknown distribution", text: Support.scenario(["dist: exponential": "dist: exponental"]),
            expected:
                "t.yaml:8:23: error: at pools[0].station.service.dist: unknown distribution `exponental`; did you mean `exponential`?"
        ),
        Case(
            label: "unknown arrival process",
            text: Support.scenario(["rate: 20/s": "rate: 20/s\n    arrival: Poisson"]),
            expected:
                "t.yaml:12:14: error: at workloads[0].arrival: unknown arrival process `Poisson`; did you mean `poisson`?"
        ),
        Case(
            label: "unknown policy inline", text: Support.scenario(appending: "policies: [round_robin]\n"),
            expected: "t.yaml:12:12: error: at policies[0]: unknown policy `round_robin`; did you mean `round-robin`?"),
        Case(
            label: "boolean spelled yes", text: Support.scenario(appending: "drain: yes\n"),
            expected: "t.yaml:12:8: error: at drain: expected true or false, found \"yes\""),
    ]

    @Test(arguments: cases)
    func goldenMessage(_ testCase: Case) {
        let error = Support.error(testCase.text)
        #expect(error?.description == testCase.expected)
        #expect(error?.kind == .invalid)
    }

    /// An unknown policy in a file on disk: the file name is the path as given.
    @Test func unknownPolicyInAFile() throws {
        let path = try Support.fixture("unknown-policy.yaml").path
        do {
            _ = try ScenarioLoader.load(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(
                error.description
                    == "\(path):2:25: error: at policies[1]: unknown policy `least-connection`; did you mean `least-connections`?"
            )
            #expect(error.file == path)
            #expect(error.line == 2 && error.column == 25 && error.path == "policies[1]")
        }
    }

    @Test func missingFile() {
        do {
            _ = try ScenarioLoader.load(path: "no/such/scenario.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .fileNotFound)
            #expect(error.description == "no/such/scenario.yaml: error: no such file")
        }
    }

    @Test func directoryIsUnreadable() {
        do {
            _ = try ScenarioLoader.load(path: Support.repositoryRoot.appendingPathComponent("scenarios").path)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .unreadable)
        }
    }

    @Test func invalidUTF8IsUnreadable() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("scenario-\(UUID().uuidString).yaml")
        try Data([0x68, 0x3a, 0x20, 0xff, 0xfe, 0x0a]).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            _ = try ScenarioLoader.load(path: url.path)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .unreadable)
        }
    }

    /// A key repeated three times, and repeated keys in nested and flow mappings, are all located.
    @Test func duplicatesAnywhere() {
        let thrice = Support.error("seed: 1\nseed: 2\nseed: 3\n")
        #expect(
            thrice?.description
                == "t.yaml:2:1: error: at seed: duplicate key `seed` (first at 1:1); keys must be unique")
        let quoted = Support.error("\"seed\": 1\nseed: 2\n")
        #expect(
            quoted?.description
                == "t.yaml:2:1: error: at seed: duplicate key `seed` (first at 1:1); keys must be unique")
        let nested = Support.error(Support.scenario(["    replicas: 4\n": "    replicas: 4\n    replicas: 5\n"]))
        #expect(
            nested?.description
                == "t.yaml:6:5: error: at pools[0].replicas: duplicate key `replicas` (first at 5:5); keys must be unique"
        )
        let complex = Support.error("? [a]\n: 1\n? [a]\n: 2\n")
        #expect(complex?.description == "t.yaml:1:3: error: duplicate key; keys must be unique")
    }

    /// The description leaves out what is unknown or empty.
    @Test func descriptionFormat() {
        let full = ScenarioError(kind: .invalid, file: "f.yaml", line: 3, column: 7, path: "pools[0]", message: "m")
        #expect(full.description == "f.yaml:3:7: error: at pools[0]: m")
        let document = ScenarioError(kind: .invalid, file: "f.yaml", line: 1, column: 1, path: "", message: "m")
        #expect(document.description == "f.yaml:1:1: error: m")
        let noPosition = ScenarioError(
            kind: .fileNotFound, file: "f.yaml", line: nil, column: nil, path: "", message: "m")
        #expect(noPosition.description == "f.yaml: error: m")
    }
}

/// Which near misses get a suggestion.
@Suite struct SuggestionTests {
    @Test(arguments: [
        ("max_queue", "max-queue"), ("Max-Queue", "max-queue"), ("horizn", "horizon"), ("hroizon", "horizon"),
        ("replica", "replicas"), ("sevrice", "service"), ("drain_timeout", "drain-timeout"), ("e2", "e2e"),
        ("mena", "mean"), ("Round Robin", "round-robin"), ("least-connection", "least-connections"),
    ])
    func suggests(_ word: String, _ expected: String) {
        let candidates = ScenarioLoader.knownKeys.values.flatMap { $0 } + PolicyRegistry.names
        #expect(Suggestions.closest(to: word, among: candidates) == expected)
    }

    @Test(arguments: ["foo", "mu", "tpo-t-x", "colour", "x"])
    func staysQuiet(_ word: String) {
        #expect(Suggestions.closest(to: word, among: ["slo", "cv", "tpot", "ttft", "seed", "name"]) == nil)
    }
}
