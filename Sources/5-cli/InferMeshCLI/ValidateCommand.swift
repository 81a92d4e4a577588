import ArgumentParser
import Scenarios

/// `infermesh validate SCENARIO`: check a file and exit without running.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check a scenario file and exit without running it.")

    @Argument(help: "The scenario file (YAML).") var scenario: String

    func run() throws {
        let status = Self.perform(path: scenario, io: .standard)
        if status != ExitStatus.ok { throw ExitCode(status) }
    }

    /// Validates `path`, reporting to `io`; returns the exit status.
    static func perform(path: String, io: CommandIO) -> Int32 {
        do {
            let loaded = try ScenarioLoader.load(path: path)
            let fleet = loaded.fleet
            let replicas = fleet.pools.reduce(0) { $0 + $1.replicas }
            let clusters = fleet.mesh.map { ", \($0.clusters.count) cluster(s), \($0.faults.count) fault(s)" } ?? ""
            io.out(
                "ok: \(loaded.name): \(fleet.pools.count) pool(s), \(replicas) replica(s), "
                    + "\(fleet.workloads.count) workload(s)\(clusters), policies \(loaded.policies.joined(separator: ", "))\n"
            )
            return ExitStatus.ok
        } catch {
            io.err("\(error)\n")
            return error.exitStatus
        }
    }
}

extension ScenarioError {
    /// The exit status this error maps to.
    var exitStatus: Int32 { kind == .fileNotFound ? ExitStatus.missingFile : ExitStatus.badInput }
}
