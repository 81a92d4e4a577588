import Foundation
import Yams

/// What-ifs from the command line: values set at scenario paths (`--set 'workloads[chat].rate=300/s'`,
/// `--horizon 10m`), in the sweep file's path syntax (docs/sweeps.md, "Paths").
///
/// The overridden scenario is the file's YAML tree with the values substituted and re-serialized, like a sweep
/// point's, so its text (stored with the run) reproduces it. Without overrides the file's text is kept as is.
public struct ScenarioOverride: Sendable, Equatable {
    /// The scenario path, such as `pools[0].replicas`.
    public var path: String
    /// The value, as YAML: `300/s`, `12`, `{process: gamma, cv: 3}`.
    public var value: String
    /// How the user wrote it, to locate errors: `--set pools[0].replicas=12`, `--horizon 10m`.
    public var label: String
    /// The 1-based column of the value within `label`.
    var valueColumn: Int

    /// `PATH=VALUE`, as `--set` takes it; an argument without `=` or with a malformed path is an error located
    /// in the argument.
    public static func parse(setting argument: String) throws(ScenarioError) -> ScenarioOverride {
        let label = "--set \(argument)"
        guard let equals = argument.firstIndex(of: "=") else {
            throw ScenarioError(
                kind: .invalid, file: label, line: 1, column: 7, path: "",
                message: "expected PATH=VALUE, like workloads[chat].rate=300/s or pools[0].replicas=12")
        }
        let path = argument[..<equals].trimmingCharacters(in: .whitespaces)
        guard PathSegment.parse(path) != nil else {
            throw ScenarioError(
                kind: .invalid, file: label, line: 1, column: 7, path: "",
                message: "`\(path)` is not a scenario path; expected keys and list indexes like pools[0].replicas")
        }
        let offset = argument.unicodeScalars.distance(
            from: argument.unicodeScalars.startIndex, to: argument.unicodeScalars.index(after: equals))
        return ScenarioOverride(
            path: path, value: String(argument[argument.index(after: equals)...]), label: label,
            valueColumn: 6 + offset + 1)
    }

    /// A top-level setting given by its own flag, such as `--horizon 10m`.
    public static func flag(_ name: String, _ value: String) -> ScenarioOverride {
        ScenarioOverride(
            path: name, value: value, label: "--\(name) \(value)", valueColumn: name.unicodeScalars.count + 4)
    }
}

extension ScenarioLoader {
    /// Loads the scenario at `path` with `overrides` applied in order (a later one wins at the same path).
    ///
    /// The file is first loaded as it is, so its own errors point into it. An error the overrides cause is
    /// located at the override whose path it is under; any other names the overrides.
    public static func load(path: String, overrides: [ScenarioOverride]) throws(ScenarioError) -> Scenario {
        let base = try load(path: path)
        guard !overrides.isEmpty else { return base }
        guard let baseRoot = try YamlDocument.parse(base.sourceText, file: base.file).root else {
            throw ScenarioError(
                kind: .invalid, file: base.file, line: 1, column: 1, path: "", message: "the scenario file is empty")
        }
        var root = baseRoot
        for override in overrides {
            let valueNode: Node
            do throws(ScenarioError) {
                valueNode = try YamlDocument.parse(override.value, file: override.label).root ?? Node("")
            } catch {
                throw override.error("the value is not valid YAML: \(error.message)")
            }
            do throws(Sweep.SubstitutionError) {
                root = try Sweep.substitute(valueNode, at: PathSegment.parse(override.path)![...], in: root)
            } catch {
                throw override.error("in \(base.file): \(error.message)", column: 7)
            }
        }
        let text: String
        do {
            text = try Yams.serialize(node: root)
        } catch {
            throw ScenarioError(
                kind: .invalid, file: base.file, line: nil, column: nil, path: "",
                message: "cannot write the scenario with \(overrides.map(\.label).joined(separator: ", ")): \(error)")
        }
        do throws(ScenarioError) {
            return try parse(text, file: base.file, baseDirectory: directory(of: base.file))
        } catch {
            // The last override at or above the failing path caused it.
            for override in overrides.reversed() {
                let path = Sweep.loaderPath(PathSegment.parse(override.path)!, in: baseRoot)
                guard Sweep.isUnder(error.path, override.path) || Sweep.isUnder(error.path, path) else { continue }
                let at = error.path == path || error.path == override.path ? "" : " at \(error.path)"
                throw override.error("in \(base.file)\(at): \(error.message)")
            }
            throw ScenarioError(
                kind: .invalid, file: base.file, line: nil, column: nil, path: error.path,
                message: "with \(overrides.map(\.label).joined(separator: ", ")): \(error.message)")
        }
    }
}

extension ScenarioOverride {
    /// An error located in the override's own text: its value, or (`column: 7`) its path.
    func error(_ message: String, column: Int? = nil) -> ScenarioError {
        ScenarioError(
            kind: .invalid, file: label, line: 1, column: column ?? valueColumn, path: path, message: message)
    }
}
