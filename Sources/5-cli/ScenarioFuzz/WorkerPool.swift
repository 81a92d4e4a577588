import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Child processes that check mutants, so that a crash or a hang costs one worker, not the campaign.
///
/// Each of `jobs` lanes (a thread) keeps one worker: it writes a mutant index to the worker's standard input
/// and waits, at most the wall budget, for one line of JSON (a ``MutantResult``) on its standard output, then
/// takes the next index from a shared counter, so the lanes stay balanced. If the worker's output ends first,
/// the worker died on that mutant: a crash, with the last lines it wrote to standard error. If the budget
/// passes, the worker is killed: a hang. Either way the lane starts a new worker and goes on.
///
/// Workers live for the whole campaign (one start-up per lane, not per mutant), and the pipes to each are
/// opened close-on-exec so no worker holds another's pipe open (which would hide its end).
struct WorkerPool {
    let command: [String]
    let jobs: Int
    let wallBudgetSeconds: Double

    /// Results of mutants `0..<count`, by index; a mutant whose worker died or hung has no source or operators
    /// (the caller fills them in from the seed: the lanes share no YAML trees). `progress` is told how many are
    /// done (from any lane, under a lock).
    func check(count: Int, progress: @escaping @Sendable (Int) -> Void) -> [MutantResult] {
        signal(SIGPIPE, SIG_IGN)  // a worker that died must not take the supervisor with it when written to
        let state = PoolState(count: count)
        let lanes = max(1, min(jobs, count))
        DispatchQueue.concurrentPerform(iterations: lanes) { lane in
            var worker: Worker?
            defer { worker?.finish() }
            while let index = state.next() {
                if worker == nil {
                    do {
                        worker = try Worker.start(command, lane: lane)
                    } catch {
                        state.record(Self.failed(index, .crash, "the worker could not start: \(error)"), progress)
                        continue
                    }
                }
                guard let running = worker else { continue }
                switch running.check(index, budgetSeconds: wallBudgetSeconds) {
                case .result(let result):
                    state.record(result, progress)
                case .garbled(let line):
                    state.record(Self.failed(index, .crash, "the worker wrote an unreadable line: \(line)"), progress)
                    running.terminate()
                    worker = nil
                case .died(let how):
                    state.record(Self.failed(index, .crash, how), progress)
                    worker = nil
                case .timedOut(let stderr):
                    let detail =
                        "no result within \(String(format: "%g", wallBudgetSeconds)) s; the worker was killed"
                        + (stderr.isEmpty ? "" : "; it wrote: \(stderr)")
                    state.record(Self.failed(index, .hang, detail), progress)
                    worker = nil
                }
            }
        }
        return state.results.map { $0! }
    }
}

extension WorkerPool {
    fileprivate static func failed(_ index: Int, _ outcome: MutantResult.Outcome, _ detail: String) -> MutantResult {
        MutantResult(index: index, source: "", operators: [], outcome: outcome, detail: detail)
    }
}

/// The shared counter of the next mutant and the results so far.
private final class PoolState: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private var done = 0
    private let count: Int
    var results: [MutantResult?]

    init(count: Int) {
        self.count = count
        self.results = Array(repeating: nil, count: count)
    }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard nextIndex < count else { return nil }
        nextIndex += 1
        return nextIndex - 1
    }

    func record(_ result: MutantResult, _ progress: @Sendable (Int) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        results[result.index] = result
        done += 1
        progress(done)
    }
}

/// One worker process and its pipes.
private final class Worker {
    enum Answer {
        case result(MutantResult)
        case garbled(String)
        case died(String)
        case timedOut(stderr: String)
    }

    private let process: Process
    /// The supervisor's ends: it writes indices to `input` and reads results from `output`.
    private let input: FileHandle
    private let output: FileHandle
    private let errorFile: URL
    private var buffer: [UInt8] = []
    private var closed = false
    private static let spawnLock = NSLock()

    private init(process: Process, input: FileHandle, output: FileHandle, errorFile: URL) {
        self.process = process
        self.input = input
        self.output = output
        self.errorFile = errorFile
    }

    static func start(_ command: [String], lane: Int) throws -> Worker {
        // Pipe creation, close-on-exec and the spawn happen under one lock, so no worker starts while another
        // lane's pipes are still inheritable.
        spawnLock.lock()
        defer { spawnLock.unlock() }
        let toWorker = Pipe()
        let fromWorker = Pipe()
        for handle in [
            toWorker.fileHandleForReading, toWorker.fileHandleForWriting, fromWorker.fileHandleForReading,
            fromWorker.fileHandleForWriting,
        ] {
            _ = fcntl(handle.fileDescriptor, F_SETFD, FD_CLOEXEC)
        }
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "infermesh-fuzz-\(getpid())-lane\(lane)-\(UUID().uuidString).stderr")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardInput = toWorker
        process.standardOutput = fromWorker
        let errors = try FileHandle(forWritingTo: errorFile)
        process.standardError = errors
        try process.run()
        // The supervisor keeps only its own ends, so the worker's output ends when the worker does.
        try? toWorker.fileHandleForReading.close()
        try? fromWorker.fileHandleForWriting.close()
        try? errors.close()
        return Worker(
            process: process, input: toWorker.fileHandleForWriting, output: fromWorker.fileHandleForReading,
            errorFile: errorFile)
    }

    /// Sends `index` and waits for its line.
    func check(_ index: Int, budgetSeconds: Double) -> Answer {
        let line = Array("\(index)\n".utf8)
        let sent = line.withUnsafeBufferPointer { write(input.fileDescriptor, $0.baseAddress, $0.count) }
        if sent != line.count { return .died(ended()) }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(budgetSeconds * 1e9)
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let text = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                guard let result = try? JSONDecoder().decode(MutantResult.self, from: Data(text.utf8)),
                    result.index == index
                else { return .garbled(String(text.prefix(300))) }
                return .result(result)
            }
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else {
                terminate()
                return .timedOut(stderr: stderrTail())
            }
            var descriptor = pollfd(fd: output.fileDescriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(1_000, (deadline - now) / 1_000_000 + 1)))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            let count = chunk.withUnsafeMutableBufferPointer { read(output.fileDescriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return .died(ended()) }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    /// How the worker ended, once its output has: its status or signal and the end of what it wrote to stderr.
    private func ended() -> String {
        closePipes()
        process.waitUntilExit()
        let how =
            process.terminationReason == .uncaughtSignal
            ? "the worker died of signal \(process.terminationStatus) (\(Self.signalName(process.terminationStatus)))"
            : "the worker exited with status \(process.terminationStatus)"
        let tail = stderrTail()
        try? FileManager.default.removeItem(at: errorFile)
        return tail.isEmpty ? how : "\(how); it wrote: \(tail)"
    }

    /// Kills a worker that hangs or talks nonsense: this pool's own child, by its process id.
    func terminate() {
        _ = kill(process.processIdentifier, SIGKILL)
        closePipes()
        process.waitUntilExit()
    }

    /// Ends a worker at the end of the campaign: its input closes and it exits.
    func finish() {
        closePipes()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: errorFile)
    }

    private func closePipes() {
        guard !closed else { return }
        closed = true
        try? input.close()
        try? output.close()
    }

    /// What the worker wrote to standard error about its end: from the first line that names the failure (a
    /// fatal error, a runtime failure, a crash) through the frames after it, or the last lines.
    private func stderrTail() -> String {
        guard let data = FileManager.default.contents(atPath: errorFile.path) else { return "" }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        let start =
            lines.firstIndex { $0.contains("Fatal error") || $0.contains("runtime failure") || $0.contains("crashed") }
            ?? max(0, lines.count - 12)
        return lines[start..<min(lines.count, start + 12)].joined(separator: " | ")
    }

    private static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGILL: return "SIGILL: a Swift trap"
        case SIGTRAP: return "SIGTRAP: a Swift trap"
        case SIGSEGV: return "SIGSEGV"
        case SIGBUS: return "SIGBUS"
        case SIGABRT: return "SIGABRT"
        case SIGKILL: return "SIGKILL"
        case SIGFPE: return "SIGFPE"
        default: return "signal \(signal)"
        }
    }
}
