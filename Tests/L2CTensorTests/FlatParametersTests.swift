import L2CTensor
import XCTest

/// A model's parameters moved into one value buffer and one gradient buffer, each parameter a view.
final class FlatParametersTests: XCTestCase {
    func testParametersBecomeAlignedViewsOfOneBufferAndKeepTheirValues() {
        let weight = Parameter(Tensor(shape: [3, 5], values: (0..<15).map(Float.init)), decays: true)
        let bias = Parameter(Tensor(shape: [3], values: [7, 8, 9]), decays: false)
        weight.gradient.fill(0.5)
        let flat = FlatParameters([("fc.weight", weight), ("fc.bias", bias)], spare: 4)

        XCTAssertEqual(weight.value.array, (0..<15).map(Float.init), "values survive the move")
        XCTAssertEqual(bias.value.array, [7, 8, 9])
        XCTAssertEqual(weight.gradient.array, [Float](repeating: 0.5, count: 15), "gradients too")
        XCTAssertEqual(weight.value.shape, [3, 5])
        // Views: weight at 0, bias at the next 64-byte boundary (16 floats); gradients mirror the layout after the
        // spare floats, which take the first 16.
        XCTAssertEqual(weight.value.data, flat.values.data)
        XCTAssertEqual(bias.value.data, flat.values.data + 16)
        XCTAssertEqual(weight.gradient.data, flat.gradients.data + 16)
        XCTAssertEqual(bias.gradient.data, flat.gradients.data + 32)
        XCTAssertEqual(flat.gradientRanges, [16..<31, 32..<35])
        XCTAssertEqual(flat.gradients.count, 48, "the spare floats, gradients and padding")

        // Writing through a parameter writes the flat buffer, and the other way round.
        bias.gradient[2] = 3
        XCTAssertEqual(flat.gradients[34], 3)
        flat.values[16] = -1
        XCTAssertEqual(bias.value[0], -1)

        flat.spareSlots[0] = 42
        flat.zeroGradients()
        XCTAssertEqual(weight.gradient.array, [Float](repeating: 0, count: 15))
        XCTAssertEqual(flat.spareSlots[0], 42, "zeroing leaves the spare floats alone")
    }
}
