/// `max-score-picker`: the highest total score; ties uniformly from the policy's seeded stream.
public struct MaxScorePicker: EndpointPicker {
    private let stream: RandomStream
    private var ties: [ReplicaID] = []

    public init(stream: RandomStream) { self.stream = stream }

    public mutating func pick(_ candidates: [ReplicaView], scores: [Double]) -> ReplicaID {
        var best = -Double.infinity
        ties.removeAll(keepingCapacity: true)
        for index in candidates.indices {
            if scores[index] > best {
                best = scores[index]
                ties.removeAll(keepingCapacity: true)
            }
            if scores[index] == best { ties.append(candidates[index].id) }
        }
        return ties.count == 1 ? ties[0] : ties[stream.integer(below: ties.count)]
    }
}

/// `random-picker`: uniform over the candidates, ignoring scores.
public struct RandomPicker: EndpointPicker {
    private let stream: RandomStream

    public init(stream: RandomStream) { self.stream = stream }

    public func pick(_ candidates: [ReplicaView], scores: [Double]) -> ReplicaID {
        candidates[stream.integer(below: candidates.count)].id
    }
}

/// `weighted-random-picker`: a candidate with probability proportional to its total score (uniform when every
/// score is zero).
public struct WeightedRandomPicker: EndpointPicker {
    private let stream: RandomStream

    public init(stream: RandomStream) { self.stream = stream }

    public func pick(_ candidates: [ReplicaView], scores: [Double]) -> ReplicaID {
        let total = scores.reduce(0) { $0 + max(0, $1) }
        guard total > 0 else { return candidates[stream.integer(below: candidates.count)].id }
        var target = stream.uniform() * total
        for index in candidates.indices {
            target -= max(0, scores[index])
            if target < 0 { return candidates[index].id }
        }
        return candidates[candidates.count - 1].id
    }
}
