/// Told during backward each time a layer's backward has returned: that layer's parameter gradients are final
/// for the step (every layer runs backward once per step), so they can travel while backward continues.
public protocol BackwardObserver: AnyObject {
    func backwardFinished(_ layer: any Layer)
}
