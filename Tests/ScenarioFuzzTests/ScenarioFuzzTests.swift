import Foundation
import Scenarios
import TestSupport
import Testing

@testable import ScenarioFuzz

/// The scenario fuzzer (docs/fuzzing.md): a slice of `make fuzz` in the test suite, its determinism, and the
/// checks and the worker pool shown to catch what they are meant to catch.
@Suite struct ScenarioFuzzTests {
    static let scenarios = Repository.root.appendingPathComponent("scenarios").path

    /// Debug builds are about ten times slower than release: shorter runs than `make fuzz`, the same checks.
    static let sliceOptions = FuzzOptions(
        seed: 42, runHorizon: .seconds(1), fullHorizonOneIn: 10, eventLimit: 5_000, fullHorizonEventLimit: 2_000,
        determinismOneIn: 16, maxReplicas: 200, wallBudgetSeconds: 60)

    /// 300 mutants through the loader, the valid ones through a short run: no crash (it would end this
    /// process), no hang, every rejection located, every request ended.
    @Test func aSliceOfTheCampaignFindsNothing() throws {
        let corpus = try FuzzCorpus.load(directory: Self.scenarios)
        let report = FuzzCampaign(corpus: corpus, options: Self.sliceOptions, count: 300).runInProcess()
        #expect(report.results.count == 300)
        #expect(report.results.map(\.index) == Array(0..<300))
        for failure in report.failures {
            Issue.record("mutant \(failure.index) (\(failure.source)): \(failure.outcome.rawValue): \(failure.detail)")
        }
        // The mutations must neither all break the file nor all leave it valid, or the slice tests little.
        #expect(report.count(.rejected) > 150, "\(report.summary)")
        #expect(report.count(.ran) > 25, "\(report.summary)")
        #expect(report.results.contains { $0.stop == "drained" })
        // Every file of the corpus and every operator gets its turn.
        #expect(Set(report.results.map(\.source)).count == corpus.sources.count)
        let used = Set(report.results.flatMap(\.operators))
        #expect(
            used == Set(MutationOperator.allCases.map(\.rawValue)),
            "unused: \(MutationOperator.allCases.filter { !used.contains($0.rawValue) })")
    }

    /// Every file the corpus holds is a valid scenario; sweep files and `sweeps/` are left out, and every other
    /// top-level file is in.
    @Test func theCorpusIsTheTopLevelScenarios() throws {
        let corpus = try FuzzCorpus.load(directory: Self.scenarios)
        #expect(corpus.sources.map(\.name) == corpus.sources.map(\.name).sorted())
        let topLevel = try FileManager.default.contentsOfDirectory(atPath: Self.scenarios)
            .filter { $0.hasSuffix(".yaml") }
        #expect(Set(corpus.sources.map(\.name) + corpus.sweepFiles) == Set(topLevel))
        #expect(corpus.sources.count >= 17)
        #expect(!corpus.sources.contains { $0.name.contains("grid") })
        for sweep in corpus.sweepFiles {
            #expect(throws: (any Error).self, "\(sweep) is a sweep file, not a scenario") {
                try ScenarioLoader.load(path: "\(Self.scenarios)/\(sweep)")
            }
        }
        for source in corpus.sources {
            #expect(throws: Never.self, "\(source.name)") {
                try ScenarioLoader.parse(source.text, file: source.name, baseDirectory: Self.scenarios)
            }
        }
    }

    /// A mutant depends only on the seed and its index: the same in any order, different under another seed.
    @Test func mutantsAreDeterministic() throws {
        let corpus = try FuzzCorpus.load(directory: Self.scenarios)
        let mutator = Mutator(corpus: corpus, seed: 7)
        let forward = (0..<40).map { mutator.mutant($0) }
        let backward = (0..<40).reversed().map { Mutator(corpus: corpus, seed: 7).mutant($0) }.reversed()
        #expect(forward == Array(backward))
        let other = (0..<40).map { Mutator(corpus: corpus, seed: 8).mutant($0) }
        #expect(zip(forward, other).count { $0.text != $1.text } > 30)
        #expect(forward.allSatisfy { !$0.mutations.isEmpty && $0.mutations.count == $0.operators.count })
        #expect(forward.count { $0.text != corpus.sources[$0.index % corpus.sources.count].text } > 35)
        #expect(forward[3].fileName(seed: 7) == "seed-7-mutant-00003.yaml")
    }

    /// The location check refuses an error without a line and column, or outside the text, or of another file.
    @Test func rejectionsWithoutAUsableLocationAreFailures() {
        let text = "horizon: 1m\npools: []\n"
        func error(file: String = "m.yaml", line: Int?, column: Int?) -> ScenarioError {
            ScenarioError(kind: .invalid, file: file, line: line, column: column, path: "pools", message: "expected")
        }
        #expect(MutantChecker.locationProblem(error(line: 2, column: 8), file: "m.yaml", text: text) == nil)
        #expect(MutantChecker.locationProblem(error(line: 2, column: 10), file: "m.yaml", text: text) == nil)
        #expect(MutantChecker.locationProblem(error(line: 3, column: 1), file: "m.yaml", text: text) == nil)
        #expect(MutantChecker.locationProblem(error(line: nil, column: nil), file: "m.yaml", text: text) != nil)
        #expect(MutantChecker.locationProblem(error(line: 2, column: nil), file: "m.yaml", text: text) != nil)
        #expect(MutantChecker.locationProblem(error(line: 4, column: 1), file: "m.yaml", text: text) != nil)
        #expect(MutantChecker.locationProblem(error(line: 1, column: 0), file: "m.yaml", text: text) != nil)
        #expect(MutantChecker.locationProblem(error(line: 2, column: 11), file: "m.yaml", text: text) != nil)
        #expect(MutantChecker.locationProblem(error(line: 3, column: 2), file: "m.yaml", text: text) != nil)
        #expect(
            MutantChecker.locationProblem(error(file: "other.yaml", line: 1, column: 1), file: "m.yaml", text: text)
                != nil)
        // Lines as libyaml counts them: CR, CR LF, NEL, LS and PS break lines too; columns count scalars.
        #expect(MutantChecker.lineLengths("a\nbb\r\nc\rd\u{2028}e\u{85}f\u{2029}g") == [1, 2, 1, 1, 1, 1, 1])
        #expect(MutantChecker.lineLengths("\u{FEFF}ab\ne\u{301}🙂\n") == [2, 3, 0])
        #expect(MutantChecker.lineLengths("") == [0])
    }

    /// The audit flags requests left `unfinished` by a run that was not cut short, and accepts them in a run
    /// stopped by its event limit.
    @Test func theAuditFlagsUnfinishedRequestsOfARunThatWasNotCut() throws {
        let spec = FleetSpec(
            pools: [
                PoolSpec(
                    name: "p", replicas: 1, replica: .station(StationSpec(servers: 1, serviceSeconds: .constant(1))))
            ],
            workloads: [WorkloadSpec(name: "w", ratePerSecond: 5, pool: "p")], horizon: .seconds(20), drain: false)
        let audit = RequestAudit()
        let stopped = try FleetRun.execute(spec, policy: "round-robin", seed: 1, sinks: [audit], keepRequests: false)
        #expect(stopped.stopReason == .horizon)
        let problem = try #require(audit.problem(in: stopped))
        #expect(problem.contains("unfinished although the run drained"))

        var cutSpec = spec
        cutSpec.drain = true
        let cutAudit = RequestAudit()
        let cut = try FleetRun.execute(
            cutSpec, policy: "round-robin", seed: 1, sinks: [cutAudit], keepRequests: false, eventLimit: 150)
        #expect(cut.stopReason == .eventLimit)
        #expect(cut.statusTotals[RequestStatus.unfinished.index] > 0)
        #expect(cutAudit.problem(in: cut) == nil)

        let drainedAudit = RequestAudit()
        let drained = try FleetRun.execute(
            cutSpec, policy: "round-robin", seed: 1, sinks: [drainedAudit], keepRequests: false)
        #expect(drained.stopReason == .drained && drainedAudit.problem(in: drained) == nil)
        #expect(drainedAudit.count == drained.requestCount && drained.requestCount > 50)
    }

    /// A worker that dies or hangs costs that mutant, reported as a crash or a hang, and the campaign goes on
    /// with a new worker; the failing mutants are written out to be replayed.
    @Test func workersThatDieOrHangAreReportedAndReplaced() throws {
        // A stand-in worker: mutant 1 kills it (SIGSEGV), mutant 2 never answers, the others are rejections.
        let script = """
            while read i; do
              case $i in
                1) kill -SEGV $$ ;;
                2) exec sleep 30 ;;
                *) printf '{"index":%s,"source":"x","operators":[],"outcome":"rejected","detail":"d","requests":0,"events":0,"wallSeconds":0}\\n' "$i" ;;
              esac
            done
            """
        let corpus = try FuzzCorpus.load(directory: Self.scenarios)
        var options = FuzzOptions(seed: 3)
        options.wallBudgetSeconds = 1
        let report = FuzzCampaign(corpus: corpus, options: options, count: 8)
            .runInWorkers(worker: ["/bin/sh", "-c", script], jobs: 2)
        #expect(report.results.map(\.index) == Array(0..<8))
        #expect(report.results[1].outcome == .crash)
        #expect(report.results[1].detail.contains("signal 11"), "\(report.results[1].detail)")
        #expect(report.results[2].outcome == .hang)
        #expect(
            report.results.enumerated().allSatisfy {
                $0.offset == 1 || $0.offset == 2 || $0.element.outcome == .rejected
            })
        // Failing mutants are described from the seed, like the others.
        let mutator = Mutator(corpus: corpus, seed: 3)
        #expect(report.results[1].source == mutator.mutant(1).source)
        #expect(report.results[2].operators == mutator.mutant(2).operators)

        try TemporaryDirectory.with("fuzz-failures") { folder in
            let written = try report.writeFailures(to: folder.path)
            #expect(
                written.map { ($0 as NSString).lastPathComponent } == [
                    "seed-3-mutant-00001.yaml", "seed-3-mutant-00002.yaml",
                ])
            #expect(try String(contentsOfFile: written[0], encoding: .utf8) == mutator.mutant(1).text)
            let note = try String(
                contentsOfFile: folder.appendingPathComponent("seed-3-mutant-00002.txt").path, encoding: .utf8)
            #expect(note.contains("outcome: hang"))
            // The corpus's sub-folders are linked, so trace paths in a mutant resolve from the failure folder.
            let traces = try FileManager.default.destinationOfSymbolicLink(
                atPath: folder.appendingPathComponent("traces").path)
            #expect(traces.hasSuffix("scenarios/traces"))
        }
    }
}
