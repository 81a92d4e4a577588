import ArgumentParser
import Foundation
import ScenarioFuzz
import Scenarios

/// `infermesh-fuzz`: mutants of the scenario files through the loader and short runs (docs/fuzzing.md).
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infermesh-fuzz",
        abstract: "Mutate the scenario files, validate every mutant and run the valid ones briefly.",
        subcommands: [Campaign.self, Show.self, Replay.self, Worker.self], defaultSubcommand: Campaign.self)
}

/// What every subcommand shares: the corpus and the run settings.
struct Settings: ParsableArguments {
    @Option(help: "The folder whose *.yaml scenario files are mutated.") var scenarios = "scenarios"
    @Option(help: "The seed of every mutation and run choice.") var seed: UInt64 = 42
    @Option(help: "Runs stop generating requests after this many simulated seconds (or the mutant's horizon).")
    var horizonSeconds: Int64 = 2
    @Option(help: "One run in this many keeps the mutant's own horizon (0: never).") var fullHorizonOneIn = 10
    @Option(help: "The most events a run processes.") var eventLimit: UInt64 = 50_000
    @Option(help: "The most events a run at the mutant's own horizon processes.") var fullHorizonEventLimit: UInt64 =
        20_000
    @Option(help: "One valid mutant in this many is run twice and must give the same digest (0: never).")
    var determinismOneIn = 16
    @Option(help: "A valid mutant with more replicas than this is not run.") var maxReplicas = 1_000
    @Option(help: "Wall-clock seconds a mutant may take before it counts as a hang.") var timeout: Double = 60

    var options: FuzzOptions {
        FuzzOptions(
            seed: seed, runHorizon: .seconds(horizonSeconds), fullHorizonOneIn: fullHorizonOneIn,
            eventLimit: eventLimit, fullHorizonEventLimit: fullHorizonEventLimit, determinismOneIn: determinismOneIn,
            maxReplicas: maxReplicas, wallBudgetSeconds: timeout)
    }

    /// The options as arguments, for the workers.
    var arguments: [String] {
        [
            "--scenarios", scenarios, "--seed", "\(seed)", "--horizon-seconds", "\(horizonSeconds)",
            "--full-horizon-one-in", "\(fullHorizonOneIn)", "--event-limit", "\(eventLimit)",
            "--full-horizon-event-limit", "\(fullHorizonEventLimit)",
            "--determinism-one-in", "\(determinismOneIn)", "--max-replicas", "\(maxReplicas)",
            "--timeout", "\(timeout)",
        ]
    }

    func corpus() throws -> FuzzCorpus {
        do {
            return try FuzzCorpus.load(directory: scenarios)
        } catch {
            throw ValidationError("cannot read the scenarios in \(scenarios): \(error)")
        }
    }
}

extension FuzzCommand {
    /// The campaign: `count` mutants in worker processes, the summary, failing mutants written out.
    struct Campaign: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run", abstract: "Check mutants 0..<count in worker processes and print the summary.")
        @OptionGroup var settings: Settings
        @Option(help: "How many mutants.") var count = 10_000
        @Option(help: "Worker processes (0: check in this process; a crash then ends the campaign).") var jobs = 2
        @Option(help: "Where failing mutants are written.") var failures = "results/fuzz-failures"
        @Option(help: "Also write every mutant's result to this file, one JSON object a line.") var log: String?

        func run() throws {
            let campaign = FuzzCampaign(corpus: try settings.corpus(), options: settings.options, count: count)
            let step = max(1, count / 10)
            let progress: @Sendable (Int) -> Void = { done in
                if done % step == 0 || done == count { FileHandle.standardError.write(Data("\(done)/\(count)\n".utf8)) }
            }
            let report: FuzzReport
            if jobs == 0 {
                report = campaign.runInProcess(progress: progress)
            } else {
                let worker = [Self.executablePath(), "worker"] + settings.arguments
                report = campaign.runInWorkers(worker: worker, jobs: jobs, progress: progress)
            }
            print(report.summary, terminator: "")
            if let log {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let lines = try report.results.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
                try (lines.joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
            }
            let written = try report.writeFailures(to: failures)
            if !written.isEmpty {
                print("failing mutants written to \(failures)/ (each with a .txt saying what failed and how to replay)")
                throw ExitCode(1)
            }
        }

        /// This executable, to start workers with.
        static func executablePath() -> String {
            #if os(Linux)
                if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
                    return path
                }
            #endif
            return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        }
    }

    /// Prints one mutant: what was done and its text.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print mutant INDEX of the seed, and its mutations.")
        @OptionGroup var settings: Settings
        @Argument(help: "The mutant's index.") var index: Int

        func run() throws {
            let mutant = Mutator(corpus: try settings.corpus(), seed: settings.seed).mutant(index)
            print("# mutant \(index) of seed \(settings.seed), from \(mutant.source)")
            for mutation in mutant.mutations { print("#   \(mutation)") }
            print(mutant.text)
        }
    }

    /// Checks one file as a mutant is checked (validation, then the short run) in this process.
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check FILE as the fuzzer checks a mutant: validate it, then the same short run, here.")
        @OptionGroup var settings: Settings
        @Argument(help: "A failing mutant (seed-S-mutant-N.yaml: the seed and index set the run's choices).")
        var file: String

        func run() throws {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let name = (file as NSString).lastPathComponent
            var options = settings.options
            var index = 0
            // seed-S-mutant-N.yaml: the run's policy and horizon are drawn from the seed and the index.
            let parts = name.replacingOccurrences(of: ".yaml", with: "").split(separator: "-")
            if parts.count == 4, parts[0] == "seed", parts[2] == "mutant", let seed = UInt64(parts[1]),
                let number = Int(parts[3])
            {
                options.seed = seed
                index = number
            }
            let mutant = Mutant(index: index, source: name, operators: [], mutations: [], text: text)
            let result = MutantChecker(corpus: try settings.corpus(), options: options).check(mutant, file: file)
            print("\(result.outcome.rawValue): \(result.detail)")
            if result.outcome.isFailure { throw ExitCode(1) }
        }
    }

    /// A worker of `run`: indices in on standard input, results out as JSON lines.
    struct Worker: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the mutants whose indices arrive on standard input (used by `run`).",
            shouldDisplay: false)
        @OptionGroup var settings: Settings

        func run() throws {
            FuzzCampaign.serveWorker(corpus: try settings.corpus(), options: settings.options)
        }
    }
}

FuzzCommand.main()
