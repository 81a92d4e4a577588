/// What a replica says of its LoRA adapters, as vLLM's `vllm:lora_requests_info` gauge does with its labels
/// `running_lora_adapters`, `waiting_lora_adapters` and `max_lora`.
///
/// Adapters are named by their index in the run's adapter table (`adapter-07` is an index into it), so a scrape
/// carries small sorted arrays, not strings. A replica without LoRA reports none of this (nil in its gauges).
public struct LoRARequestsInfo: Sendable, Equatable {
    /// Adapters with at least one request running (prefilling or decoding), ascending.
    public var running: [Int32]
    /// Adapters with at least one request waiting, ascending.
    public var waiting: [Int32]
    /// `max_lora`: the most adapters the replica holds on its GPUs at once (vLLM's `--max-loras`).
    public var maxLora: Int

    public init(running: [Int32] = [], waiting: [Int32] = [], maxLora: Int) {
        self.running = running
        self.waiting = waiting
        self.maxLora = maxLora
    }

    /// Adapters either running or waiting, each once.
    public var activeOrWaitingCount: Int {
        var count = running.count
        for adapter in waiting where !running.contains(adapter) { count += 1 }
        return count
    }
}
