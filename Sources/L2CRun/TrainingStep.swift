import L2CComm
import L2CTensor

/// One data-parallel optimisation step, the same in every training loop and in `l2c bench`: gradients zeroed, the
/// caller's forward and backward (the gradient all-reduce overlapping backward where a network is watched), the
/// exchange finished with the caller's control values riding on it, the optimiser's step, each part timed.
public final class TrainingStep {
    public let parameters: [(name: String, parameter: Parameter)]
    /// The parameters' values and gradients, moved into one buffer each.
    let flat: FlatParameters
    public let reducer: GradientReducer
    public let optimizer: any Optimizer

    /// `controls`: how many values at most ride on each step's exchange.
    public init(parameters: [(name: String, parameter: Parameter)], overlapping network: Sequential?, optimizer: any Optimizer,
                exchange: GradientExchange, controls: Int, communicator: any Communicator) {
        self.parameters = parameters
        flat = FlatParameters(parameters, spare: controls)
        reducer = GradientReducer(flat: flat, parameters: parameters, communicator: communicator, exchange: exchange)
        if let network { reducer.watch(network) }
        self.optimizer = optimizer
    }

    /// Runs `body` (forward and backward of `batch`, returning the global loss), then `control(loss)` (which may
    /// throw to stop, or returns the values to sum over the ranks with the gradients), the exchange and the
    /// optimiser's step at `learningRate`. Returns the loss and the summed control values.
    public func run(_ batch: StepBatch, learningRate: Float, _ body: (StepBatch) throws -> Double,
                    control: (Double) throws -> [Float] = { _ in [] }) throws -> (loss: Double, control: [Float], exchange: GradientReducer.Timing) {
        let timer = batch.timer
        flat.zeroGradients()
        timer.start()
        let loss = try body(batch)
        timer.lap(.compute)
        var values = try control(loss)
        let exchange = reducer.finish(control: &values)
        timer.add(.allReduce, exchange.allReduceSeconds)
        timer.add(.allReduceExposed, exchange.exposedSeconds)
        timer.start()
        optimizer.learningRate = learningRate
        optimizer.step(parameters)
        timer.lap(.optimizer)
        return (loss, values, exchange)
    }

    /// Stops the exchange's thread.
    public func close() { reducer.close() }
}
