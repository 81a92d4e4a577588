import ArgumentParser
import Foundation
import ResultsStore

/// `infermesh plot --out DIR`: latency CDFs and replica time series of stored runs as SVG, without Python.
struct PlotCommand: ResultsReadingCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw TTFT and E2E CDFs per policy and replica time series as SVG files.")

    @OptionGroup var selection: RunSelectionOptions
    @Option(help: "The folder to write the SVG files to (created if needed).") var out: String = "results/plots"

    var database: DatabaseOption { selection.database }

    /// Draws the selected runs; returns the exit status.
    func perform(store: ResultsStore, io: CommandIO) -> Int32 {
        let runs: [StoredRun]
        do throws(ReadFailure) {
            runs = try selection.select(from: store)
        } catch {
            io.err(error.message + "\n")
            return error.status
        }
        do {
            let data = try PlotData(store: store, runs: runs)
            let folder = URL(fileURLWithPath: out, isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, chart) in Plots.all(data) {
                let url = folder.appendingPathComponent(name)
                try Data(chart.render().utf8).write(to: url)
                io.out("wrote \(url.path)\n")
            }
            return ExitStatus.ok
        } catch {
            io.err("error: plot to \(out) failed: \(error)\n")
            return ExitStatus.internalError
        }
    }
}
