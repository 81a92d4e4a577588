import Foundation
import TestSupport
import Testing

@testable import Scenarios

/// `run --set PATH=VALUE`, `--horizon`, `--warmup`: values substituted at sweep paths, errors located in the
/// argument that caused them.
@Suite struct ScenarioOverrideTests {
    static let text = """
        # Two workloads on one pool.
        name: what-if
        seed: 5
        horizon: 2m
        warmup: 10s
        policies: [round-robin]
        pools:
          - name: pool
            replicas: 2
            station: {servers: 1, service: {dist: exponential, mean: 100ms}}
        workloads:
          - name: chat
            rate: 5/s
          - name: batch
            rate: 1/s
        """

    static func load(_ overrides: [ScenarioOverride]) throws(ScenarioError) -> Scenario {
        let file = try! TemporaryDirectory.file(text, prefix: "what-if", suffix: ".yaml")
        return try ScenarioLoader.load(path: file, overrides: overrides)
    }

    static func set(_ argument: String) throws -> ScenarioOverride { try ScenarioOverride.parse(setting: argument) }

    /// The error an override causes, or nil.
    static func failure(_ overrides: [ScenarioOverride]) -> ScenarioError? {
        do throws(ScenarioError) {
            _ = try load(overrides)
            return nil
        } catch {
            return error
        }
    }

    @Test func valuesAreSetByIndexOrNameAndFlagsSetHorizonAndWarmup() throws {
        let plain = try Self.load([])
        #expect(plain.sourceText == Self.text)
        let changed = try Self.load([
            Self.set("workloads[batch].rate=3/s"), Self.set("pools[0].replicas=7"), .flag("horizon", "10m"),
            .flag("warmup", "1m"),
        ])
        #expect(changed.fleet.pools[0].replicas == 7)
        #expect(changed.fleet.workloads.map(\.name) == ["chat", "batch"])
        #expect(changed.fleet.horizon.seconds == 600 && changed.fleet.warmup.seconds == 60)
        // The stored text is the substituted scenario: loading it alone gives the same fleet and sha.
        let reloaded = try ScenarioLoader.parse(changed.sourceText, file: "stored.yaml", baseDirectory: "")
        #expect(reloaded.fleet.pools[0].replicas == 7 && reloaded.fleet.horizon.seconds == 600)
        #expect(changed.sha256 != plain.sha256 && changed.name == plain.name)
        // A later override of the same path wins; a missing mapping key is created.
        let twice = try Self.load([Self.set("pools[0].replicas=3"), Self.set("pools[0].replicas=4")])
        #expect(twice.fleet.pools[0].replicas == 4)
        let drained = try Self.load([Self.set("drain=true")])
        #expect(drained.fleet.drain)
    }

    @Test func errorsAreLocatedInTheArgument() throws {
        // A value the loader rejects: at the value, in the argument, through a named list item.
        let rate = try #require(Self.failure([Self.set("workloads[chat].rate=abc")]))
        #expect(rate.file == "--set workloads[chat].rate=abc" && rate.line == 1 && rate.column == 28)
        #expect(rate.description.contains("expected a rate > 0 with a unit"))
        let replicas = try #require(Self.failure([Self.set("pools[0].replicas=-1")]))
        #expect(replicas.column == 25 && replicas.message.contains("expected a positive integer, found -1"))
        // Paths that lead nowhere, malformed arguments and bad YAML.
        let missing = try #require(Self.failure([Self.set("pools[3].replicas=2")]))
        #expect(missing.column == 7 && missing.message.contains("item [3] does not exist; the list has 1 item(s)"))
        let nightly = try Self.set("workloads[nightly].rate=2/s")
        #expect(Self.failure([nightly])?.message.contains("no item named `nightly`") == true)
        #expect(throws: ScenarioError.self) { try ScenarioOverride.parse(setting: "pools[0].replicas") }
        #expect(throws: ScenarioError.self) { try ScenarioOverride.parse(setting: "pools[0.replicas=2") }
        let yaml = try #require(Self.failure([Self.set("workloads[0].rate=[1, 2")]))
        #expect(yaml.message.hasPrefix("the value is not valid YAML"))
        // A flag: located at its value.
        let horizon = try #require(Self.failure([.flag("horizon", "soon")]))
        #expect(horizon.file == "--horizon soon" && horizon.column == 11)
        // An error elsewhere that an override caused names the overrides.
        let warmup = try #require(Self.failure([.flag("horizon", "5s")]))
        #expect(warmup.path == "warmup" && warmup.message.hasPrefix("with --horizon 5s: expected a warmup shorter"))
        // The file's own errors still point into the file.
        let file = try TemporaryDirectory.file(Self.text + "\nbogus: 1\n", prefix: "what-if", suffix: ".yaml")
        let three = try Self.set("pools[0].replicas=3")
        do throws(ScenarioError) {
            _ = try ScenarioLoader.load(path: file, overrides: [three])
            Issue.record("the file's unknown key was not reported")
        } catch {
            #expect(error.file == file && error.line == 16)
        }
    }
}
