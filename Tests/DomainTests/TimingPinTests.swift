import Fleet
import Testing

/// The BF16 dense catalog times exactly as it did before precision, mixture-of-experts and sliding-window
/// attention were added: every roofline step duration and KV capacity over a grid of shapes, GPUs, models and
/// tensor-parallel sizes, folded into one digest. Scenario digests of BF16 dense fleets depend on these numbers
/// to the nanosecond, so any change to them must be deliberate (and change this pin).
@Suite struct TimingPinTests {
    static let gpus: [GPUSpec] = [.h100_80GB, .h200_141GB, .a100_80GB, .l4]
    static let models: [LLMSpec] = [.llama2_7B, .llama3_8B, .codeLlama34B, .llama2_70B, .llama3_70B, .qwen3_32B]

    static let shapes: [StepShape] = {
        var shapes: [StepShape] = []
        for tokens in [1, 7, 256, 1_000, 2_048, 8_192] {
            shapes.append(
                StepShape(prefillTokens: tokens, prefillAttentionPairs: Double(tokens) * Double(tokens + 1) / 2))
        }
        for batch in [1, 3, 8, 64, 256] {
            for context in [1, 100, 512, 2_048, 32_768] {
                shapes.append(StepShape(decodeSequences: batch, decodeContextTokens: batch * context))
                shapes.append(
                    StepShape(
                        prefillTokens: 512, prefillAttentionPairs: 512.0 * (1_000 + 256), decodeSequences: batch,
                        decodeContextTokens: batch * context))
            }
        }
        return shapes
    }()

    /// A fold of every roofline duration (ns and the exact seconds), derived KV block count and fitted duration.
    static func catalogDigest() -> RunDigest {
        var digest = RunDigest()
        for gpu in gpus {
            for model in models {
                for tp in [1, 2, 4, 8] {
                    let timing = RooflineTiming(gpu: gpu, model: model, tensorParallelSize: tp)
                    for shape in shapes {
                        digest.mix(timing.stepDuration(shape))
                        digest.mix(timing.breakdown(shape).totalSeconds)
                    }
                    let blocks = GPUReplicaSpec.kvBlocks(
                        gpu: gpu, model: model, tensorParallelSize: tp, gpuMemoryUtilization: 0.9, blockSize: 16)
                    digest.mix(Int64(blocks ?? -1))
                }
            }
        }
        for key in FittedProfileTiming.available {
            guard
                let fitted = FittedProfileTiming.profile(
                    gpu: key.gpu, model: key.model, tensorParallelSize: key.tensorParallelSize)
            else { continue }
            for shape in shapes { digest.mix(fitted.stepDuration(shape)) }
        }
        return digest
    }

    @Test func theBF16DenseCatalogTimesAsBefore() {
        #expect(Self.catalogDigest().hex == "85514721400b98be")
    }
}
