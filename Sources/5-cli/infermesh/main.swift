import Foundation
import InferMeshCLI

exit(InferMeshCommand.perform(Array(CommandLine.arguments.dropFirst()), io: .standard))
