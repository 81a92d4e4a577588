import ArgumentParser
import Foundation
import ResultsStore
import Scenarios

/// `infermesh report [RUN_ID ...] --out FILE`: one self-contained HTML page to share a comparison: the table of
/// `compare`, the charts of `plot`, each run's digest and reproduce command, and the scenario.
struct ReportCommand: ResultsReadingCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract:
            "Write one self-contained HTML page: the comparison, latency CDFs, replica time series, runs and scenario.",
        discussion: """
            The runs are those `compare` takes: the given ids, or the latest runs of each policy (and
            replication) of --scenario, or of the scenario run last. The page has no scripts and fetches nothing:
            CSS and SVG are inline, so it opens offline, on a phone, and prints.
            """)

    @OptionGroup var selection: ComparisonSelection
    @Option(help: "The HTML file to write (its folder is created if needed).") var out: String = "results/report.html"
    @OptionGroup var database: DatabaseOption

    func perform(store: ResultsStore, io: CommandIO) -> Int32 {
        let page: String
        do {
            let runs = try selection.select(store, db: db)
            page = HTMLReport(
                comparison: try selection.comparison(of: runs, store: store),
                versions: ComparisonSelection.versions(of: runs), runs: runs,
                data: try PlotData(store: store, runs: runs), database: db
            ).render()
        } catch let error as ComparisonSelection.Failure {
            io.err("error: \(error.message)\n")
            return ExitCode.validationFailure.rawValue
        } catch {
            io.err("error: \(error)\n")
            return (error as? ScenarioError)?.exitStatus ?? ExitStatus.internalError
        }
        do throws(WriteFailure) {
            try Self.write(page, to: out)
        } catch {
            io.err("error: cannot write the report to \(out): \(error.reason)\n")
            return ExitStatus.internalError
        }
        io.out("wrote \(out)\n")
        return ExitStatus.ok
    }

    /// Why the page could not be written.
    struct WriteFailure: Error { let reason: String }

    /// Writes `page` to `path` whole or not at all (a temporary file renamed), creating its folder.
    static func write(_ page: String, to path: String) throws(WriteFailure) {
        let url = URL(fileURLWithPath: path), folder = url.deletingLastPathComponent()
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw WriteFailure(reason: "it is a folder; name a file, like \(path)/report.html")
        }
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw WriteFailure(reason: "\(folder.path) is a file, not a folder")
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(page.utf8).write(to: url, options: .atomic)
        } catch {
            throw WriteFailure(reason: Self.reason(error))
        }
    }

    /// The system's words for why a file operation failed (`Permission denied`), rather than Foundation's
    /// generic "The operation could not be completed".
    static func reason(_ error: any Error) -> String {
        if let posix = (error as? CocoaError)?.underlying as? POSIXError {
            return String(cString: strerror(posix.code.rawValue))
        }
        return error.localizedDescription
    }
}
