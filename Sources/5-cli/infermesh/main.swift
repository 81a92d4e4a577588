import Foundation
import InferMeshCLI

Interruption.install()
exit(InferMeshCommand.perform(Array(CommandLine.arguments.dropFirst()), io: .standard))
