import Foundation
import ResultsStore

/// What Ctrl-C (SIGINT) or SIGTERM does to runs under way: they are marked `failed` ("interrupted"), which
/// deletes the rows they had streamed, and the process exits 128 + the signal. Without it a stopped run
/// would stay `running` with half its rows. Runs already complete are untouched.
public enum Interruption {
    /// Handles SIGINT and SIGTERM from now on; the executable calls it once at start.
    public static func install() { registry.install() }

    private static let registry = Registry()

    private final class Registry: @unchecked Sendable {
        // @unchecked: every access is under `lock`.
        private let lock = NSLock()
        private var sources: [any DispatchSourceSignal] = []

        func install() {
            lock.lock()
            defer { lock.unlock() }
            guard sources.isEmpty else { return }
            for number in [SIGINT, SIGTERM] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [self] in interrupted(by: number) }
                source.resume()
                sources.append(source)
            }
        }

        private func interrupted(by number: Int32) {
            let runs = RunsUnderWay.takeAll()
            let name = number == SIGINT ? "SIGINT" : "SIGTERM"
            var failed: [Int64] = []
            for (id, store) in runs where (try? store.failRun(id: id, error: "interrupted by \(name)")) != nil {
                failed.append(id)
            }
            let marked =
                failed.isEmpty ? "" : "; run(s) \(failed.map(String.init).joined(separator: ", ")) marked failed"
            FileHandle.standardError.write(Data("\ninterrupted by \(name)\(marked)\n".utf8))
            exit(128 + number)
        }
    }
}
