import Analysis
import ArgumentParser
import Foundation
import ResultsStore

/// `infermesh export --format csv --out DIR`: stored runs as CSV files for notebooks. docs/export.md.
struct ExportCommand: ResultsReadingCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write stored runs as CSV files (runs, requests, samples, summaries, …).")

    enum Format: String, ExpressibleByArgument, CaseIterable { case csv }

    @OptionGroup var selection: RunSelectionOptions
    @Option(help: "Output format (csv).") var format: Format = .csv
    @Option(help: "The folder to write the files to (created if needed).") var out: String = "notebooks-export"

    var database: DatabaseOption { selection.database }

    /// Exports the selected runs; returns the exit status.
    func perform(store: ResultsStore, io: CommandIO) -> Int32 {
        let runs: [StoredRun]
        do throws(ReadFailure) {
            runs = try selection.select(from: store)
        } catch {
            io.err(error.message + "\n")
            return error.status
        }
        do {
            let folder = URL(fileURLWithPath: out, isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (file, rows) in try CSVExport(store: store, runs: runs, folder: folder).writeAll() {
                io.out("wrote \(folder.appendingPathComponent(file).path) (\(rows) rows)\n")
            }
            return ExitStatus.ok
        } catch {
            io.err("error: export to \(out) failed: \(error)\n")
            return ExitStatus.internalError
        }
    }
}

/// Writes the CSV files of docs/export.md for `runs`, one file at a time, streaming the large tables.
struct CSVExport {
    let store: ResultsStore
    let runs: [StoredRun]
    let folder: URL

    /// `runs.csv`'s columns.
    static let runColumns = [
        "run_id", "scenario_name", "scenario_sha256", "policy", "seed", "replication", "tool_version", "digest",
        "events", "wall_seconds", "horizon_ns", "warmup_ns",
    ]

    /// The files copied from a database table: file, table, columns (the table's declared columns, in schema
    /// order, so the files do not change shape with the database's version), and the row order within a run.
    static let tables: [(file: String, table: String, columns: [String], order: [String])] = [
        ("replicas.csv", TableDeclaration.replica), ("requests.csv", .request), ("samples.csv", .sample),
        ("sessions.csv", .session), ("scaling_events.csv", .scalingEvent), ("mesh_events.csv", .meshEvent),
        ("run_files.csv", .runFile),
    ].map { file, table in (file, table.name, table.columnNames, table.rowOrder) }

    /// Writes every file; returns each file's name and data rows (the header not counted), in writing order.
    func writeAll() throws -> [(file: String, rows: Int)] {
        var written = try [writeRuns()]
        written += try writeSummariesAndComparison()
        for table in Self.tables {
            let file = try CSVFile(url: folder.appendingPathComponent(table.file), header: table.columns)
            var fields = [String](repeating: "", count: table.columns.count)
            for run in runs {
                try store.forEachRow(table: table.table, columns: table.columns, runID: run.id, orderBy: table.order) {
                    for index in $0.indices { fields[index] = CSV.field($0[index]) }
                    try file.write(fields)
                }
            }
            try file.close()
            written.append((table.file, file.records - 1))
        }
        return written
    }

    private func writeRuns() throws -> (file: String, rows: Int) {
        let file = try CSVFile(url: folder.appendingPathComponent("runs.csv"), header: Self.runColumns)
        for run in runs {
            try file.write([
                String(run.id), CSV.field(run.scenarioName), CSV.field(run.scenarioSHA256), CSV.field(run.policy),
                String(run.seed), String(run.replication), CSV.field(run.toolVersion), run.digest.map(CSV.field) ?? "",
                run.events.map(String.init) ?? "", CSV.field(run.wallSeconds), String(run.horizonNs),
                String(run.warmupNs),
            ])
        }
        try file.close()
        return ("runs.csv", runs.count)
    }

    /// `summaries.csv` (long format) and `comparison.csv` (mean and 95% interval over replications).
    private func writeSummariesAndComparison() throws -> [(file: String, rows: Int)] {
        let summaries = try CSVFile(
            url: folder.appendingPathComponent("summaries.csv"), header: ["run_id", "policy", "metric", "value"])
        // Groups in first-appearance order (runs are in id order), so the file is the same for the same runs.
        var groups: [(scenario: String, policy: String, metrics: [String], values: [String: [Double]])] = []
        for (run, column) in zip(runs, RunSelectionOptions.columns(of: runs)) {
            let rows = try store.summaries(runID: run.id)
            for row in rows {
                try summaries.write([
                    String(run.id), CSV.field(run.policy), CSV.field(row.metric), CSV.number(row.value),
                ])
            }
            var index = groups.firstIndex { $0.scenario == run.scenarioName && $0.policy == column }
            if index == nil {
                groups.append((run.scenarioName, column, [], [:]))
                index = groups.count - 1
            }
            for row in rows {
                if groups[index!].values[row.metric] == nil { groups[index!].metrics.append(row.metric) }
                groups[index!].values[row.metric, default: []].append(row.value)
            }
        }
        try summaries.close()

        let comparison = try CSVFile(
            url: folder.appendingPathComponent("comparison.csv"),
            header: ["scenario", "policy", "metric", "mean", "ci95_half_width", "n"])
        for group in groups {
            for metric in group.metrics {
                let interval = Statistics.confidenceInterval(ofDefined: group.values[metric] ?? [])
                try comparison.write([
                    CSV.field(group.scenario), CSV.field(group.policy), CSV.field(metric), CSV.number(interval.mean),
                    CSV.number(interval.halfWidth), String(interval.count),
                ])
            }
        }
        try comparison.close()
        return [("summaries.csv", summaries.records - 1), ("comparison.csv", comparison.records - 1)]
    }
}
