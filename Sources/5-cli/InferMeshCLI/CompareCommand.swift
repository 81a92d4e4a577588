import ArgumentParser
import Foundation
import ResultsStore
import Scenarios

/// `infermesh compare [RUN_ID ...]`: stored runs side by side, by policy, with confidence intervals over
/// replications and the difference from a baseline policy.
struct CompareCommand: ResultsReadingCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare stored runs by policy: latency percentiles, throughput, SLOs, utilization, errors.",
        discussion: """
            Without run ids: the latest runs of each policy (and replication) of --scenario, or of the scenario
            run last. With several replications per policy, cells are the mean ± the 95% Student-t half-width.
            With a baseline (default: the first policy), other policies show their relative difference from
            it, starred when Welch's t-test over replications finds it significant at 95%.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, markdown, json, csv }

    @OptionGroup var selection: ComparisonSelection
    @Option(help: "Output format: table, markdown, json or csv.") var format: Format = .table
    @OptionGroup var database: DatabaseOption

    func perform(store: ResultsStore, io: CommandIO) -> Int32 {
        do {
            let runs = try selection.select(store, db: db)
            // Runs of different scenario versions (a sweep's points, an edited file) are different
            // columns, never replications of one another: their columns are `policy@sha`.
            let versions = ComparisonSelection.versions(of: runs)
            if versions.count > 1 {
                io.err(
                    "note: runs of \(versions.count) scenario versions; columns are policy@sha:\n"
                        + versions.map {
                            "  \($0.label) = \($0.name), runs \($0.ids.map(String.init).joined(separator: ", "))\n"
                        }
                        .joined())
            }
            let report = try selection.comparison(of: runs, store: store)
            switch format {
            case .table: io.out(report.table())
            case .markdown: io.out(report.markdown())
            case .json: io.out(try report.json())
            case .csv: io.out(report.csv())
            }
            return ExitStatus.ok
        } catch let error as ComparisonSelection.Failure {
            io.err("error: \(error.message)\n")
            return ExitCode.validationFailure.rawValue
        } catch {
            io.err("error: \(error)\n")
            return (error as? ScenarioError)?.exitStatus ?? ExitStatus.internalError
        }
    }
}
