import ArgumentParser
import Foundation
import ResultsStore

/// `--db PATH`: the results database a command reads.
struct DatabaseOption: ParsableArguments {
    @Option(help: "The results database.") var db: String = defaultDatabasePath
}

/// Why a command cannot read what it was asked for, with the exit status to return.
struct ReadFailure: Error {
    var status: Int32
    var message: String
}

/// A command that reads the results database: `runs`, `compare`, `reproduce`, `export` and `plot`.
///
/// It owns `--db` (`database`) and never opens the database itself: `perform(io:)` opens it the one way every
/// reader does (`openExisting`), reports a missing or unreadable file the same way for all, and hands the store to
/// `perform(store:io:)`.
protocol ResultsReadingCommand: ParsableCommand {
    /// The `--db` option.
    var database: DatabaseOption { get }
    /// The command's work on the opened database; returns the exit status.
    func perform(store: ResultsStore, io: CommandIO) -> Int32
}

extension ResultsReadingCommand {
    /// The database's path, as given with `--db`.
    var db: String { database.db }

    /// Opens the database (never creating it) and runs the command on it; returns the exit status.
    func perform(io: CommandIO) -> Int32 {
        let store: ResultsStore
        do throws(ReadFailure) {
            store = try Self.openExisting(db)
        } catch {
            io.err(error.message + "\n")
            return error.status
        }
        return perform(store: store, io: io)
    }

    /// The executable's entry: `perform(io:)` on the standard streams.
    func run() throws {
        let status = perform(io: .standard)
        if status != ExitStatus.ok { throw ExitCode(status) }
    }

    /// The results database at `db`, which must exist: the readers never create one. A missing file is
    /// `missingFile` (66), one that cannot be opened as an InferMesh database `badInput` (65).
    static func openExisting(_ db: String) throws(ReadFailure) -> ResultsStore {
        guard FileManager.default.fileExists(atPath: db) else {
            throw ReadFailure(
                status: ExitStatus.missingFile,
                message: "error: no results database at \(db) (run `infermesh run` first, or pass --db)")
        }
        do {
            return try ResultsStore(path: db)
        } catch {
            throw ReadFailure(
                status: ExitStatus.badInput, message: "error: cannot read results database \(db): \(error)")
        }
    }
}
