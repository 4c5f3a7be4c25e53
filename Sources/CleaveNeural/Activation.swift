/// A reusable NCHW Float buffer owned by one layer (its output or its input gradient).
///
/// Layers keep their buffers between steps and only reallocate when the shape grows, so the
/// training loop does not allocate in the hot path. Inference (`UNet.forward(_:training: false)`)
/// releases each buffer once it has been read, so a large tile holds only the few activations
/// alive at once.
final class Activation {
    private(set) var batch = 0
    private(set) var channels = 0
    private(set) var height = 0
    private(set) var width = 0
    private(set) var pointer: UnsafeMutablePointer<Float>
    private var capacity: Int

    init() {
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        capacity = 1
    }

    init(_ tensor: Tensor) {
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, tensor.count))
        capacity = max(1, tensor.count)
        reshape(tensor.batch, tensor.channels, tensor.height, tensor.width)
        tensor.storage.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: tensor.count) }
        }
    }

    deinit { pointer.deallocate() }

    var count: Int { batch * channels * height * width }
    var planeSize: Int { height * width }
    var imageSize: Int { channels * height * width }

    /// Sets the shape, reallocating (contents undefined) when it needs more room.
    func reshape(_ batch: Int, _ channels: Int, _ height: Int, _ width: Int) {
        let needed = batch * channels * height * width
        if needed > capacity {
            pointer.deallocate()
            capacity = needed
            pointer = UnsafeMutablePointer<Float>.allocate(capacity: needed)
        }
        self.batch = batch; self.channels = channels; self.height = height; self.width = width
    }

    func reshape(like other: Activation, channels: Int? = nil) {
        reshape(other.batch, channels ?? other.channels, other.height, other.width)
    }

    func zero() { pointer.update(repeating: 0, count: count) }

    /// Frees the storage (an inference activation nothing reads any more); the next `reshape`
    /// allocates again.
    func release() {
        pointer.deallocate()
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        capacity = 1
        batch = 0; channels = 0; height = 0; width = 0
    }

    func image(_ n: Int) -> UnsafeMutablePointer<Float> { pointer + n * imageSize }

    var tensor: Tensor {
        Tensor(batch: batch, channels: channels, height: height, width: width,
               storage: Array(UnsafeBufferPointer(start: pointer, count: count)))
    }
}

/// One trainable (or running-statistics) array of a layer, with its accumulated gradient.
final class Parameter {
    let name: String
    let shape: [Int]
    let count: Int
    let value: UnsafeMutablePointer<Float>
    let gradient: UnsafeMutablePointer<Float>
    /// False for batch-norm running statistics: saved, never trained.
    let trainable: Bool

    init(name: String, shape: [Int], trainable: Bool = true, fill: Float = 0) {
        self.name = name
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.trainable = trainable
        value = .allocate(capacity: max(1, count))
        value.initialize(repeating: fill, count: max(1, count))
        gradient = .allocate(capacity: max(1, count))
        gradient.initialize(repeating: 0, count: max(1, count))
    }

    deinit { value.deallocate(); gradient.deallocate() }

    var values: [Float] {
        get { Array(UnsafeBufferPointer(start: value, count: count)) }
        set {
            precondition(newValue.count == count, "Parameter \(name): \(newValue.count) values for \(count)")
            newValue.withUnsafeBufferPointer { value.update(from: $0.baseAddress!, count: count) }
        }
    }

    var gradients: [Float] { Array(UnsafeBufferPointer(start: gradient, count: count)) }

    func zeroGradient() { gradient.update(repeating: 0, count: count) }
}
