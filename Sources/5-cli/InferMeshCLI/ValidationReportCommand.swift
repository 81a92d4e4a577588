import ArgumentParser
import Foundation
import Scenarios

/// `infermesh validation-report`: docs/validation.md, regenerated from scenarios/validation/cases.yaml (the work of
/// `make validate`); or, with `--check`, a check that the committed report is what it would write.
struct ValidationReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validation-report",
        abstract: "Compare the timing models with published serving numbers and write docs/validation.md.",
        discussion: """
            Run it from the repository root. It reads the cases file, runs each case's
            scenario with the roofline and with the fitted timing model (as infermesh
            run FILE --set 'pools[0].gpu.timing=roofline' does, without storing the
            runs) or times its engine step (as infermesh timing does), and writes the
            report: each published figure, each model's prediction and its error, and
            the scenario and command that produced it (docs/calibration.md, "Validation
            against published numbers").

            infermesh validation-report                     write docs/validation.md (make validate)
            infermesh validation-report --check             write nothing; exit 1 if docs/validation.md differs
            infermesh validation-report --check --quick     only the quick cases' rows, as swift test checks them
            """)

    @Option(help: "The cases file, from the repository root.") var cases = "scenarios/validation/cases.yaml"
    @Option(help: "The report to write, or to check, from the repository root.") var out = "docs/validation.md"
    @Flag(help: "Write nothing: exit 1 if the report is not what would be written.") var check = false
    @Flag(help: "Only the cases marked quick (an engine step, short runs); needs --check.") var quick = false
    @Option(help: "Simulations to run at once (the report does not depend on it).") var jobs = 1

    func validate() throws {
        if quick && !check {
            throw ValidationError("--quick computes only some of the rows, so it needs --check (it writes nothing)")
        }
        if !(1...256).contains(jobs) { throw ValidationError("--jobs must be between 1 and 256, got \(jobs)") }
        if cases.hasPrefix("/") || out.hasPrefix("/") {
            throw ValidationError(
                "--cases and --out are paths from the repository root (the current directory), which the report "
                    + "names its files by; got an absolute path")
        }
    }

    func run() throws {
        let status = perform(io: .standard)
        if status != ExitStatus.ok { throw ExitCode(status) }
    }

    /// Computes the report and writes or checks it; returns the exit status.
    func perform(io: CommandIO) -> Int32 {
        let root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let report: ValidationReport
        do {
            report = try ValidationReport.compute(root: root, casesPath: cases, quick: quick, jobs: jobs)
        } catch let error as ScenarioError {
            io.err("\(error)\n")
            return error.exitStatus
        } catch {
            io.err("error: \(error)\n")
            return ExitStatus.badInput
        }
        let file = root.appendingPathComponent(out)
        guard check else {
            do {
                try report.markdown().write(to: file, atomically: true, encoding: .utf8)
            } catch {
                io.err("error: cannot write \(out): \(error)\n")
                return ExitStatus.internalError
            }
            io.out("wrote \(out): \(report.rows.count) published figures\n")
            return ExitStatus.ok
        }
        guard let committed = try? String(contentsOf: file, encoding: .utf8) else {
            io.err("Error: no report at \(out)\n")
            return ExitStatus.missingFile
        }
        let problems = quick ? report.mismatches(in: committed) : Self.differences(committed, report.markdown())
        guard problems.isEmpty else {
            io.err(
                "\(out) is out of date (regenerate it with make validate):\n" + problems.joined(separator: "\n") + "\n")
            return ExitStatus.internalError
        }
        let rows = quick ? "the \(report.rows.count) rows of the quick cases" : "all \(report.rows.count) rows"
        io.out("\(out) is up to date: \(rows)\n")
        return ExitStatus.ok
    }

    /// The first line where `committed` and `computed` differ, with both versions of it; empty when they are equal.
    static func differences(_ committed: String, _ computed: String) -> [String] {
        guard committed != computed else { return [] }
        let old = committed.components(separatedBy: "\n"), new = computed.components(separatedBy: "\n")
        let line = (0..<min(old.count, new.count)).first { old[$0] != new[$0] } ?? min(old.count, new.count)
        return [
            "line \(line + 1) reads", "  " + (line < old.count ? old[line] : "(end of file)"), "but would be",
            "  " + (line < new.count ? new[line] : "(end of file)"),
        ]
    }
}
