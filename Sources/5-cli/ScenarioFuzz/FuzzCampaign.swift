import Foundation

/// A fuzzing campaign: mutants `0..<count` of a corpus, checked in this process or in worker processes, with
/// the summary and the failing mutants written out.
public struct FuzzCampaign {
    /// The files mutants are made from.
    public let corpus: FuzzCorpus
    /// The seed and the runs' settings.
    public let options: FuzzOptions
    /// Mutants `0..<count` are checked.
    public let count: Int

    /// A campaign of `count` mutants of `corpus`.
    public init(corpus: FuzzCorpus, options: FuzzOptions, count: Int) {
        self.corpus = corpus
        self.options = options
        self.count = count
    }

    /// Checks every mutant here, one after the other. A crash ends this process, and a hang is only noticed
    /// once the mutant ends; the test suite's slice runs this way, `make fuzz` uses ``runInWorkers``.
    public func runInProcess(progress: ((Int) -> Void)? = nil) -> FuzzReport {
        let start = DispatchTime.now().uptimeNanoseconds
        let mutator = Mutator(corpus: corpus, seed: options.seed)
        let checker = MutantChecker(corpus: corpus, options: options)
        var results: [MutantResult] = []
        results.reserveCapacity(count)
        for index in 0..<count {
            results.append(checker.check(mutator.mutant(index)))
            progress?(index + 1)
        }
        return FuzzReport(
            options: options, corpus: corpus, results: results,
            wallSeconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, jobs: 0)
    }

    /// Checks every mutant in `jobs` worker processes (see ``WorkerPool``), each started with `worker` (an
    /// executable and its arguments) and restarted after a crash or a hang.
    public func runInWorkers(
        worker: [String], jobs: Int, progress: (@Sendable (Int) -> Void)? = nil
    ) -> FuzzReport {
        let start = DispatchTime.now().uptimeNanoseconds
        let pool = WorkerPool(command: worker, jobs: jobs, wallBudgetSeconds: options.wallBudgetSeconds)
        var results = pool.check(count: count) { progress?($0) }
        // A mutant that killed its worker or ran out of time is described here, from the seed and its index.
        let mutator = Mutator(corpus: corpus, seed: options.seed)
        for index in results.indices where results[index].source.isEmpty {
            let mutant = mutator.mutant(index)
            results[index].source = mutant.source
            results[index].operators = mutant.operators
        }
        return FuzzReport(
            options: options, corpus: corpus, results: results,
            wallSeconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, jobs: jobs)
    }

    /// Serves a supervisor: reads mutant indices from standard input, one per line, and writes each one's
    /// ``MutantResult`` as a line of JSON to standard output, until the input ends.
    public static func serveWorker(corpus: FuzzCorpus, options: FuzzOptions) {
        let mutator = Mutator(corpus: corpus, seed: options.seed)
        let checker = MutantChecker(corpus: corpus, options: options)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        while let line = readLine() {
            guard let index = Int(line.trimmingCharacters(in: .whitespaces)), index >= 0 else { continue }
            let result = checker.check(mutator.mutant(index))
            guard let data = try? encoder.encode(result) else { continue }
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }
    }
}

/// The results of a campaign, in mutant order, and what they add up to.
public struct FuzzReport {
    /// The campaign's seed and settings.
    public let options: FuzzOptions
    /// The files the mutants were made from.
    public let corpus: FuzzCorpus
    /// Each mutant's result, by index.
    public let results: [MutantResult]
    /// Wall-clock seconds of the whole campaign.
    public let wallSeconds: Double
    /// Worker processes used; 0 for in-process.
    public let jobs: Int

    /// How many mutants had `outcome`.
    public func count(_ outcome: MutantResult.Outcome) -> Int { results.count { $0.outcome == outcome } }

    /// Mutants that found a bug.
    public var failures: [MutantResult] { results.filter(\.outcome.isFailure) }

    /// Mutants the loader accepted (whatever their run then did).
    public var validated: Int { results.count(where: \.outcome.isValidated) }

    /// The summary `make fuzz` prints; everything but the last line (wall time) is the same for the same seed.
    public var summary: String {
        func row(_ label: String, _ value: Int, _ note: String = "") -> String {
            let number = String(value)
            return label.padding(toLength: 26, withPad: " ", startingAt: 0)
                + String(repeating: " ", count: max(0, 7 - number.count)) + number + (note.isEmpty ? "" : "  " + note)
        }
        let runs = results.filter { $0.stop != nil }
        let stops = ["drained", "drainLimit", "eventLimit"].map { stop in "\(stop) \(runs.count { $0.stop == stop })" }
        let requests = runs.reduce(0) { $0 + $1.requests }
        let events = runs.reduce(UInt64(0)) { $0 + $1.events }
        var lines = [
            "scenario fuzzing: seed \(options.seed), \(results.count) mutants of \(corpus.sources.count) files in "
                + "\(corpus.directory)"
                + (corpus.sweepFiles.isEmpty
                    ? "" : " (sweep files left out: \(corpus.sweepFiles.joined(separator: ", ")))"),
            row("mutants", results.count),
            row("validated", validated),
            row(
                "rejected", count(.rejected) + count(.unlocated),
                "located \(count(.rejected)), without a location \(count(.unlocated))"),
            row("run", runs.count, "stopped: \(stops.joined(separator: ", ")); \(requests) requests, \(events) events"),
            row("not run: too large", count(.tooLarge), "over \(options.maxReplicas) replicas"),
            row("crashes", count(.crash)),
            row("hangs", count(.hang)),
            row("unterminated requests", count(.unterminated)),
            row("other run failures", count(.runFailure)),
            "by operator (mutants using it: validated / total):",
        ]
        var perOperator: [String] = []
        for mutation in MutationOperator.allCases {
            let using = results.filter { $0.operators.contains(mutation.rawValue) }
            let valid = using.count(where: \.outcome.isValidated)
            perOperator.append("\(mutation.rawValue) \(valid)/\(using.count)")
        }
        var line = " "
        for item in perOperator {
            if line.count + item.count > 110 {
                lines.append(line)
                line = " "
            }
            line += " " + item
        }
        lines.append(line)
        for failure in failures.prefix(20) {
            lines.append(
                "FAILED mutant \(failure.index) (\(failure.source); \(failure.outcome.rawValue)): \(failure.detail)")
        }
        if failures.count > 20 { lines.append("... and \(failures.count - 20) more failures") }
        let how = jobs == 0 ? "in process" : "\(jobs) worker process\(jobs == 1 ? "" : "es")"
        lines.append("wall \(String(format: "%.1f", wallSeconds)) s (\(how))")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes each failing mutant to `folder` as `seed-S-mutant-NNNNN.yaml` (the text exactly as checked) with a
    /// `.txt` beside it (what failed, the mutations, how to replay), and links the corpus's sub-folders there
    /// (`traces`) so relative paths in the mutants resolve: `infermesh validate FILE` replays a rejection.
    /// Earlier failure files in the folder are removed first; without failures nothing is created. Returns the
    /// paths of the mutants written.
    @discardableResult
    public func writeFailures(to folder: String) throws -> [String] {
        let manager = FileManager.default
        if manager.fileExists(atPath: folder) {
            for name in try manager.contentsOfDirectory(atPath: folder)
            where name.hasPrefix("seed-") && (name.hasSuffix(".yaml") || name.hasSuffix(".txt")) {
                try manager.removeItem(atPath: (folder as NSString).appendingPathComponent(name))
            }
        }
        guard !failures.isEmpty else { return [] }
        try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let corpusFolder = URL(fileURLWithPath: corpus.directory).standardizedFileURL
        for name in try manager.contentsOfDirectory(atPath: corpusFolder.path).sorted() {
            var isDirectory: ObjCBool = false
            let target = corpusFolder.appendingPathComponent(name).path
            let link = (folder as NSString).appendingPathComponent(name)
            guard manager.fileExists(atPath: target, isDirectory: &isDirectory), isDirectory.boolValue,
                (try? manager.destinationOfSymbolicLink(atPath: link)) == nil, !manager.fileExists(atPath: link)
            else { continue }
            try manager.createSymbolicLink(atPath: link, withDestinationPath: target)
        }
        let mutator = Mutator(corpus: corpus, seed: options.seed)
        var written: [String] = []
        for failure in failures {
            let mutant = mutator.mutant(failure.index)
            let path = (folder as NSString).appendingPathComponent(mutant.fileName(seed: options.seed))
            try mutant.text.write(toFile: path, atomically: true, encoding: .utf8)
            let note = """
                mutant \(mutant.index) of seed \(options.seed), from \(mutant.source)
                outcome: \(failure.outcome.rawValue)\(failure.policy.map { " (policy \($0))" } ?? "")
                \(failure.detail)

                mutations:
                \(mutant.mutations.map { "  - \($0)" }.joined(separator: "\n"))

                replay:
                  infermesh-fuzz replay \(path)              # validate and the same short run, in this process
                  infermesh-fuzz show \(mutant.index) --seed \(options.seed)     # the mutant again, from the seed
                  infermesh validate \(path)

                """
            try note.write(
                toFile: (path as NSString).deletingPathExtension + ".txt", atomically: true, encoding: .utf8)
            written.append(path)
        }
        return written
    }
}
