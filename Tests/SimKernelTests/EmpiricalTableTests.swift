import SimKernel
import Testing

@Suite("EmpiricalTable")
struct EmpiricalTableTests {
    @Test("rejects invalid input")
    func rejectsInvalid() {
        #expect(EmpiricalTable(values: []) == nil, "empty")
        #expect(EmpiricalTable(values: [], weights: []) == nil, "empty with weights")
        #expect(EmpiricalTable(values: [1, 2], weights: [1]) == nil, "fewer weights than values")
        #expect(EmpiricalTable(values: [1], weights: [1, 2]) == nil, "more weights than values")
        #expect(EmpiricalTable(values: [1, 2], weights: [1, -0.5]) == nil, "negative weight")
        #expect(EmpiricalTable(values: [1, 2], weights: [1, .nan]) == nil, "NaN weight")
        #expect(EmpiricalTable(values: [1, 2], weights: [1, .infinity]) == nil, "infinite weight")
        #expect(EmpiricalTable(values: [1, 2], weights: [0, 0]) == nil, "all-zero weights")
        #expect(EmpiricalTable(values: [1, .nan], weights: [1, 1]) == nil, "NaN value")
    }

    @Test("accepts valid input and normalizes the weights")
    func normalizes() throws {
        let table = try #require(EmpiricalTable(values: [3, 1, 4], weights: [2, 0, 6]))
        #expect(table.values == [3, 1, 4])
        #expect(table.probabilities == [0.25, 0, 0.75])
        #expect(table.mean == 3.75)
        #expect(abs(table.variance - 0.1875) < 1e-15)  // 0.25·0.75² + 0.75·0.25²
        let equal = try #require(EmpiricalTable(values: [5, 6, 7, 8]))
        #expect(equal.probabilities == [0.25, 0.25, 0.25, 0.25])
        let single = try #require(EmpiricalTable(values: [9]))
        let stream = RandomStream(name: "single", runSeed: 1)
        #expect((0..<100).allSatisfy { _ in stream.sample(.empirical(single)) == 9 })
    }

    /// Every weight is finite, so the table is accepted, but their sum overflows to +inf and every
    /// probability becomes w / inf = 0 (the mean then reads 0). Sampling is unaffected (GSL normalizes on
    /// its own), so only `probabilities`, `mean` and `variance` are wrong.
    @Test("huge finite weights still normalize")
    func hugeWeights() throws {
        let table = try #require(EmpiricalTable(values: [1, 2], weights: [1e308, 1e308]))
        #expect(table.probabilities == [0.5, 0.5])
        #expect(table.mean == 1.5)
    }

    @Test("equality compares values and normalized probabilities")
    func equality() {
        let a = EmpiricalTable(values: [1, 2], weights: [1, 3])!
        let b = EmpiricalTable(values: [1, 2], weights: [2, 6])!
        let c = EmpiricalTable(values: [1, 2], weights: [3, 1])!
        #expect(a == b)
        #expect(a != c)
        #expect(Distribution.empirical(a) == Distribution.empirical(b))
    }

    /// 10 values with uneven weights (including one zero), 200,000 draws, Pearson chi-square over the
    /// 9 cells with positive probability (8 degrees of freedom). The 99.9% quantile of chi²(8) is 26.12;
    /// a correct sampler exceeds it once in 1,000 seeds, and the seed is fixed. Zero-weight values must never appear.
    @Test("sampling frequencies match the probabilities")
    func frequencies() throws {
        let weights: [Double] = [5, 1, 0, 2.5, 10, 0.25, 3, 7, 1, 4]
        let values = (0..<weights.count).map { Double($0) * 10 }
        let table = try #require(EmpiricalTable(values: values, weights: weights))
        let stream = RandomStream(name: "test/empirical/frequencies", runSeed: 77)
        let n = 200_000
        var counts = [Int](repeating: 0, count: values.count)
        for _ in 0..<n {
            let x = stream.sample(.empirical(table))
            counts[Int(x / 10)] += 1
        }
        #expect(counts[2] == 0, "zero-weight value drawn")
        var chi2 = 0.0
        for (count, p) in zip(counts, table.probabilities) where p > 0 {
            let expected = p * Double(n)
            chi2 += (Double(count) - expected) * (Double(count) - expected) / expected
        }
        #expect(chi2 < 26.12, "chi-square \(chi2) with 8 degrees of freedom; counts \(counts)")
    }
}
