import ArgumentParser
import Fleet

/// vLLM's engine arguments that make a deployment out of a GPU and a model, under vLLM's flag names: shared by the
/// commands that take a setup on the command line (`timing`, `calibrate`).
struct DeploymentOptions: ParsableArguments {
    @Option(help: "GPUs per replica (vLLM's --tensor-parallel-size).") var tensorParallelSize = 1
    @Flag(help: "Spread the experts of a mixture-of-experts model over the GPUs (vLLM's --enable-expert-parallel).")
    var enableExpertParallel = false
    @Option(help: "Weight format, as vLLM's --quantization: \(Quantization.names.joined(separator: ", ")).")
    var quantization: String?
    @Option(
        name: .customLong("kv-cache-dtype"),
        help: "KV cache dtype, as vLLM's --kv-cache-dtype: \(KVCacheDType.names.joined(separator: ", ")).")
    var kvCacheDType: String?

    func validate() throws {
        guard tensorParallelSize >= 1 else { throw ValidationError("--tensor-parallel-size must be at least 1") }
        if let quantization, Quantization(rawValue: quantization) == nil {
            throw ValidationError(
                "unknown quantization '\(quantization)'; known: \(Quantization.names.joined(separator: ", "))")
        }
        if let kvCacheDType, KVCacheDType(rawValue: kvCacheDType) == nil {
            throw ValidationError(
                "unknown kv-cache-dtype '\(kvCacheDType)'; known: \(KVCacheDType.names.joined(separator: ", "))")
        }
    }

    /// A GPU of the catalog, or the error that lists them.
    static func gpu(_ name: String) throws -> GPUSpec {
        guard let gpu = GPUSpec.named(name) else {
            throw ValidationError(
                "unknown hardware '\(name)'; known: \(GPUSpec.builtIns.map(\.name).joined(separator: ", "))")
        }
        return gpu
    }

    /// A model of the catalog, or the error that lists them.
    static func model(_ name: String) throws -> LLMSpec {
        guard let model = LLMSpec.named(name) else {
            throw ValidationError(
                "unknown model '\(name)'; known: \(LLMSpec.builtIns.map(\.name).joined(separator: ", "))")
        }
        return model
    }

    /// `model` on `gpu` with these arguments (validated already).
    func deployment(gpu: GPUSpec, model: LLMSpec) -> ModelDeployment {
        ModelDeployment(
            gpu: gpu, model: model, tensorParallelSize: tensorParallelSize, enableExpertParallel: enableExpertParallel,
            quantization: quantization.flatMap(Quantization.init(rawValue:)),
            kvCacheDType: kvCacheDType.flatMap(KVCacheDType.init(rawValue:)) ?? .auto)
    }
}
