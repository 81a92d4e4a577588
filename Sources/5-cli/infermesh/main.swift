import InferMeshCLI

InferMeshCommand.main()
