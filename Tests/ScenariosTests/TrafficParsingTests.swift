import Fleet
import Foundation
import Scenarios
import TestSupport
import Testing

/// Scenario syntax for bursty arrivals, rate schedules, Zipf prefix groups and empirical lengths from a file.
@Suite struct TrafficParsingTests {
    static func workload(_ lines: String, file: String = "t.yaml") throws -> WorkloadSpec {
        try ScenarioLoader.parse(Support.scenario(["rate: 20/s": lines]), file: file).fleet.workloads[0]
    }

    @Test func schedulesReadAsTheirForms() throws {
        let spike = try Self.workload(
            "rate: 40/s\n    schedule: {spike: {start: 3m, ramp-up: 30s, peak: 3, hold: 2m, decay: 1m}}")
        #expect(
            spike.schedule
                == .spike(
                    base: 40, start: .seconds(180), rampUp: .seconds(30), peak: 3, hold: .seconds(120),
                    decay: .seconds(60)))
        let steps = try Self.workload(
            "rate: 40/s\n    schedule: {steps: [{at: 0s, rate: 20/s}, {at: 2m, rate: 60/s}, {at: 5m, rate: 0/s}]}")
        #expect(
            steps.schedule
                == .steps(
                    base: 40,
                    [(at: .zero, ratePerSecond: 20), (at: .seconds(120), ratePerSecond: 60), (.seconds(300), 0)]))
        let ramp = try Self.workload("rate: 40/s\n    schedule: {ramp: {from: 10/s, to: 60/s, start: 0s, end: 10m}}")
        #expect(ramp.schedule == .ramp(base: 40, from: 10, to: 60, start: .zero, end: .seconds(600)))
        let diurnal = try Self.workload(
            "rate: 40/s\n    schedule: {diurnal: {period: 24h, amplitude: 0.5, peak-at: 14h}}")
        #expect(
            diurnal.schedule
                == .diurnal(base: 40, period: .seconds(86_400), amplitude: 0.5, peakAt: .seconds(14 * 3_600)))
        #expect(try Self.workload("rate: 40/s").schedule == nil)
    }

    @Test func burstyArrivalsRead() throws {
        let onOff = try Self.workload("rate: 10/s\n    arrival: {process: on-off, on: 2s, off: 8s}")
        #expect(onOff.arrival == .onOff(onSeconds: 2, offSeconds: 8))
        #expect(onOff.arrival.name == "on-off")
        let mmpp = try Self.workload(
            "rate: 10/s\n    arrival: {process: mmpp, states: [{rate: 3x, mean-duration: 5s}, "
                + "{rate: 0.5, mean-duration: 20s}]}")
        #expect(
            mmpp.arrival
                == .mmpp(
                    .init(states: [.init(multiplier: 3, meanSeconds: 5), .init(multiplier: 0.5, meanSeconds: 20)])))
        let scheduled = try Self.workload(
            "rate: 10/s\n    arrival: {process: on-off, on: 2s, off: 8s}\n    schedule: {diurnal: {period: 1h, amplitude: 1}}"
        )
        #expect(scheduled.schedule != nil)
        let groups = try Self.workload("rate: 10/s\n    prefix-groups: {count: 150, tokens: 6000, zipf: 1.1}")
        #expect(groups.prefixGroups == .init(count: 150, tokens: 6_000, zipf: 1.1))
    }

    /// Bad input: the path, line and column of the offending node, and what was expected.
    @Test(arguments: [
        (
            "schedule: {steps: [{at: 2m, rate: 20/s}, {at: 1m, rate: 5/s}]}", "workloads[0].schedule.steps[1].at",
            "expected a time after the previous step's (2m), found \"1m\"", 12, 51
        ),
        (
            "schedule: {diurnal: {period: 24h, amplitude: 1.5}}", "workloads[0].schedule.diurnal.amplitude",
            "expected an amplitude in 0...1 (above 1 the rate would go negative), found 1.5", 12, 50
        ),
        (
            "schedule: {ramp: {from: 1/s, to: 2/s, start: 5m, end: 1m}}", "workloads[0].schedule.ramp.end",
            "expected an end after the start (5m), found \"1m\"", 12, 59
        ),
        (
            "schedule: {spike: {start: 1m, peak: 3}, steps: []}", "workloads[0].schedule.steps",
            "a schedule takes one form; found both `spike` and `steps`", 12, 45
        ),
        (
            "schedule: {}", "workloads[0].schedule",
            "expected one of steps, ramp, diurnal, spike, found an empty mapping", 12, 15
        ),
        (
            "schedule: {spikes: {start: 1m, peak: 3}}", "workloads[0].schedule.spikes",
            "unknown key `spikes`; did you mean `spike`?", 12, 16
        ),
        (
            "schedule: {steps: [{at: 0s, rate: -1/s}]}", "workloads[0].schedule.steps[0].rate",
            "expected a rate >= 0 with a unit", 12, 39
        ),
        (
            "schedule: {spike: {start: 1m, peak: lots}}", "workloads[0].schedule.spike.peak",
            "expected a multiplier >= 0, like 3x or 0.5x, found \"lots\"", 12, 41
        ),
        (
            "schedule: {spike: {peak: 2}}", "workloads[0].schedule.spike",
            "missing required key `start`", 12, 23
        ),
        (
            "ramp-to: 40/s\n    schedule: {spike: {start: 1m, peak: 3}}", "workloads[0].ramp-to",
            "a workload takes `ramp-to` or `schedule`, not both", 12, 5
        ),
        ("arrival: on-off", "workloads[0].arrival", "`on-off` arrivals need mean periods", 12, 14),
        (
            "arrival: {process: on-off, on: 2s}", "workloads[0].arrival",
            "missing required key `off` (the mean off period, a duration > 0)", 12, 14
        ),
        (
            "arrival: {process: on-off, on: 2s, off: 8s, cv: 2}", "workloads[0].arrival.cv",
            "`cv` applies only to gamma and weibull arrivals, not on-off", 12, 49
        ),
        (
            "arrival: {process: on-off, on: 2s, off: 0s}", "workloads[0].arrival.off",
            "expected a duration > 0, found \"0s\"", 12, 45
        ),
        (
            "arrival: {process: mmpp, states: [{rate: 2x, mean-duration: 1s}]}", "workloads[0].arrival.states",
            "expected at least two states, found one", 12, 38
        ),
        (
            "arrival: {process: mmpp, states: [{rate: 0x, mean-duration: 1s}, {rate: 0, mean-duration: 1s}]}",
            "workloads[0].arrival.states", "expected at least one state with a rate > 0x", 12, 38
        ),
        (
            "arrival: {process: gamma, cv: 2, states: []}", "workloads[0].arrival.states",
            "unknown key `states` for `process: gamma`", 12, 38
        ),
        (
            "prefix-groups: {count: 10, tokens: 100, zipf: 0}", "workloads[0].prefix-groups.zipf",
            "expected a number > 0, found 0", 12, 51
        ),
    ])
    func badTrafficIsLocated(yaml: String, path: String, message: String, line: Int, column: Int) {
        let error = Support.error(Support.scenario(["rate: 20/s": "rate: 20/s\n    \(yaml)"]))
        #expect(error?.path == path, "\(yaml)")
        #expect(error?.message.hasPrefix(message) == true, "\(yaml): \(error?.message ?? "no error")")
        #expect(error?.line == line && error?.column == column, "\(yaml): \(error.map { "\($0)" } ?? "")")
    }

    /// A directory of its own holding the scenario and its data files.
    static func directory(_ files: [String: String]) throws -> URL {
        let directory = try TemporaryDirectory.make("infermesh-traffic")
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return directory
    }

    static let csv = """
        Timestamp,ContextTokens,GeneratedTokens
        0,"1200",17
        1,800,5\r
        2,1200,9

        3,  45 ,2
        """

    /// Lengths from a CSV column (path relative to the scenario file, not the working directory) or from a plain
    /// file: each row equally likely, so the table's probabilities are the values' frequencies in the file, and
    /// draws return only the file's values.
    @Test func empiricalLengthsComeFromTheFile() throws {
        let directory = try Self.directory(["lengths.csv": Self.csv, "outputs.txt": "7\n7\n\n300\n7\n"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let scenario = Support.scenario([
            "rate: 20/s":
                "rate: 20/s\n    input-tokens: {dist: empirical, file: lengths.csv, column: ContextTokens}"
                + "\n    output-tokens: {dist: empirical, file: outputs.txt}"
        ])
        let path = directory.appendingPathComponent("s.yaml").path
        try scenario.write(toFile: path, atomically: true, encoding: .utf8)
        let workload = try ScenarioLoader.load(path: path).fleet.workloads[0]
        guard case .empirical(let input) = workload.inputTokens, case .empirical(let output) = workload.outputTokens
        else {
            Issue.record("expected empirical distributions, found \(workload.inputTokens), \(workload.outputTokens)")
            return
        }
        #expect(input.values == [45, 800, 1_200] && input.probabilities == [0.25, 0.25, 0.5])
        #expect(output.values == [7, 300] && output.probabilities == [0.75, 0.25])
        let generator = WorkloadGenerator(spec: workload, streams: RandomStreams(runSeed: 1))
        var seen = Set<Int>()
        for _ in 0..<2_000 {
            let request = generator.nextRequest()
            seen.insert(request.input)
            #expect([7, 300].contains(request.output))
        }
        #expect(seen == [45, 800, 1_200])
    }

    @Test(arguments: [
        (
            "{dist: empirical, file: lengths.csv, column: ContextToken}", "workloads[0].input-tokens.column",
            "no column `ContextToken` in lengths.csv; did you mean `ContextTokens`?"
        ),
        (
            "{dist: empirical, file: lengths.csv, column: Timestamp}", "",
            ""
        ),
        (
            "{dist: empirical, file: bad.txt}", "workloads[0].input-tokens.file",
            "bad.txt:3: expected a number >= 0, found \"12 tokens\""
        ),
        (
            "{dist: empirical, file: missing.csv}", "workloads[0].input-tokens.file",
            "no data file `missing.csv` (looked for "
        ),
        (
            "{dist: empirical, file: lengths.csv, values: [1]}", "workloads[0].input-tokens.values",
            "`dist: empirical` takes `values` or `file`, not both"
        ),
        (
            "{dist: empirical, values: [1], column: ContextTokens}", "workloads[0].input-tokens.column",
            "`column` goes with `file`"
        ),
        (
            "{dist: empirical, file: short.csv, column: b}", "workloads[0].input-tokens.file",
            "short.csv:3: expected a value in column `b`, found 1 fields"
        ),
    ])
    func badDataFilesAreLocated(yaml: String, path: String, message: String) throws {
        let directory = try Self.directory([
            "lengths.csv": Self.csv, "bad.txt": "1\n2\n12 tokens\n", "short.csv": "a,b\n1,2\n3\n",
        ])
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = Support.scenario(["rate: 20/s": "rate: 20/s\n    input-tokens: \(yaml)"])
        let file = directory.appendingPathComponent("s.yaml").path
        if message.isEmpty {
            #expect(throws: Never.self) { try ScenarioLoader.parse(text, file: file) }
            return
        }
        let error = Support.error(text, file: file)
        #expect(error?.path == path, "\(yaml)")
        #expect(error?.message.hasPrefix(message) == true, "\(yaml): \(error?.message ?? "no error")")
        #expect(error?.file == file && error?.line == 12)
    }

    @Test func dataFilesAreForTokenCountsOnly() {
        let error = Support.error(
            Support.scenario(["service: {dist: exponential, mean: 1s}": "service: {dist: empirical, file: s.csv}"]))
        #expect(error?.path == "pools[0].station.service.file")
        #expect(error?.message.hasPrefix("`file` is for token counts only") == true, "\(error?.message ?? "")")
    }
}
