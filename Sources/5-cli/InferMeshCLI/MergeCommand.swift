import ArgumentParser
import ResultsStore

/// `infermesh merge OUT IN...`: copy every complete run of the inputs into one database (after a sharded sweep).
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Copy every complete run of the input databases into OUT (created if missing).",
        discussion: """
            Runs get new ids in OUT, in input order, then by original run id. Each input is merged in one \
            transaction; an input that is not an InferMesh database, or has a newer schema, is refused.
            """)

    @Argument(help: "The database to merge into.") var output: String
    @Argument(help: "The databases to merge from, in order.") var inputs: [String]

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one input database") }
    }

    func run() throws {
        let status = perform(io: .standard)
        if status != ExitStatus.ok { throw ExitCode(status) }
    }

    /// Merges, reporting each input; returns the exit status.
    func perform(io: CommandIO) -> Int32 {
        let store: ResultsStore
        do {
            store = try ResultsStore(path: output)
        } catch {
            io.err("error: cannot open results database \(output): \(error)\n")
            return ExitStatus.badInput
        }
        for input in inputs {
            do {
                let result = try store.merge(from: input)
                let ids =
                    result.newRunIDs.isEmpty
                    ? "" : " as run ids \(result.newRunIDs.first!)–\(result.newRunIDs.last!)"
                let skipped = result.skipped > 0 ? "; skipped \(result.skipped) incomplete run(s)" : ""
                io.out("merged \(result.runs) run(s) from \(input)\(ids)\(skipped)\n")
            } catch let error as StoreError {
                io.err("error: \(error)\n")
                return error.message == "no such file" ? ExitStatus.missingFile : ExitStatus.badInput
            } catch {
                io.err("error: \(error)\n")
                return ExitStatus.internalError
            }
        }
        return ExitStatus.ok
    }
}
