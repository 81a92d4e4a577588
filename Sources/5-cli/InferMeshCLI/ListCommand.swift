import ArgumentParser
import Fleet

/// `infermesh list policies|replica-kinds|arrival-processes`: print a registry.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Print what is registered: routing policies, replica kinds, arrival processes.")

    enum Registry: String, ExpressibleByArgument, CaseIterable {
        case policies
        case replicaKinds = "replica-kinds"
        case arrivalProcesses = "arrival-processes"
    }

    @Argument(help: "What to list: \(Registry.allCases.map(\.rawValue).joined(separator: ", ")).")
    var registry: Registry

    func run() throws { CommandIO.standard.out(Self.render(registry)) }

    /// The listing of `registry`, one entry a line.
    static func render(_ registry: Registry) -> String {
        switch registry {
        case .policies:
            let width = PolicyRegistry.names.map(\.count).max() ?? 0
            return PolicyRegistry.entries.map {
                $0.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.summary + "\n"
            }.joined()
        case .replicaKinds:
            return ReplicaSpec.kindNames.map { $0 + "\n" }.joined()
        case .arrivalProcesses:
            return ArrivalProcess.names.map { $0 + "\n" }.joined()
        }
    }
}
