import CleaveCore

/// Export of a U-Net to ONNX (opset 17, IR version 8), so a model trained in Cleave runs in
/// onnxruntime, napari / Fiji plug-ins and other tools.
///
/// The graph is the inference network exactly as ``UNet/forward(_:training:)`` computes it with
/// `training: false`:
///
/// | Cleave layer | ONNX |
/// |---|---|
/// | 3×3 convolution (padding 1), 1×1 head | `Conv` |
/// | batch norm (running statistics) + ReLU | `BatchNormalization` (ε = 1e-5) → `Relu` |
/// | group norm (G groups) + ReLU | `Reshape` [N, G, −1] → `InstanceNormalization` → `Reshape` back → `Mul` γ → `Add` β → `Relu` |
/// | no norm + ReLU | `Relu` |
/// | 2×2 max pooling | `MaxPool` |
/// | ×2 bilinear (align_corners = false) | `Resize` (linear, half_pixel) |
/// | 2×2 transposed convolution, stride 2 | `ConvTranspose` |
/// | skip concatenation | `Concat` (skip first) |
/// | dropout | (identity at inference) |
///
/// Input `input`: N × channels × H × W float32 (H, W multiples of 2^(depth−1)), already
/// normalised as the model's input specification says (Cleave writes that into the metadata).
/// Outputs: `logits` and `probabilities` (softmax over classes), N × classes × H × W.
public enum ONNXExport {
    /// Serialised `ModelProto` for `weights`, with `metadata` as `metadata_props`.
    /// - Throws: ``UNetError/exportMissingArray(array:expected:)`` when an array the architecture needs is missing or mis-shaped.
    public static func model(_ weights: UNetWeights, metadata: [(key: String, value: String)] = [],
                             producerVersion: String = "") throws -> [UInt8] {
        var graph = GraphBuilder(weights)
        try graph.build()
        var model = ProtoWriter()
        model.int(1, 8)                                   // ir_version
        model.string(2, "cleave")                         // producer_name
        model.string(3, producerVersion)                  // producer_version
        model.string(6, "U-Net \(weights.configuration.depth) levels, width \(weights.configuration.baseWidth)") // doc_string
        model.message(7, graph.proto())                   // graph
        var opset = ProtoWriter()
        opset.string(1, "")
        opset.int(2, 17)
        model.message(8, opset)                           // opset_import
        for (key, value) in metadata {
            var entry = ProtoWriter()
            entry.string(1, key)
            entry.string(2, value)
            model.message(14, entry)                      // metadata_props
        }
        return model.bytes
    }

    /// Serialised `TensorProto` (float32, raw little-endian data), the format of ONNX test data
    /// files (`test_data_set_0/input_0.pb`).
    public static func tensor(name: String, dims: [Int], values: [Float]) -> [UInt8] {
        precondition(dims.reduce(1, *) == values.count, "ONNXExport.tensor: \(values.count) values for dims \(dims)")
        var t = ProtoWriter()
        for d in dims { t.int(1, Int64(d)) }            // dims
        t.int(2, 1)                                       // data_type FLOAT
        t.string(8, name)                                 // name
        t.floats(9, values)                               // raw_data
        return t.bytes
    }
}

/// Builds the nodes and initialisers of the inference graph.
private struct GraphBuilder {
    let configuration: UNetConfiguration
    let arrays: [String: UNetWeights.NamedArray]
    var nodes: [ProtoWriter] = []
    var initializers: [ProtoWriter] = []
    var counter = 0

    init(_ weights: UNetWeights) {
        configuration = weights.configuration
        var byName: [String: UNetWeights.NamedArray] = [:]
        for array in weights.arrays { byName[array.name] = array }
        arrays = byName
    }

    mutating func build() throws {
        let depth = configuration.depth
        var x = "input"
        var skips: [String] = []
        for level in 0..<depth {
            x = try doubleConvolution("encoder\(level)", x)
            if level < depth - 1 {
                skips.append(x)
                x = node("MaxPool", [x], attributes: [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])])
            }
        }
        for level in stride(from: depth - 2, through: 0, by: -1) {
            let up: String
            switch configuration.upsampling {
            case .bilinear:
                let scales = constant("scales", dims: [4], values: [1, 1, 2, 2])
                let resized = node("Resize", [x, "", scales], attributes: [
                    .string("mode", "linear"), .string("coordinate_transformation_mode", "half_pixel")])
                up = try convolution("decoder\(level).up", resized, kernel: 3)
            case .transposed:
                let name = "decoder\(level).up"
                let weight = try initializer(name + ".weight", shape: [configuration.width(level: level + 1), configuration.width(level: level), 2, 2])
                let bias = try initializer(name + ".bias", shape: [configuration.width(level: level)])
                up = node("ConvTranspose", [x, weight, bias], attributes: [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])])
            }
            let cat = node("Concat", [skips[level], up], attributes: [.int("axis", 1)])
            x = try doubleConvolution("decoder\(level)", cat)
        }
        let logits = try convolution("head", x, kernel: 1, output: "logits")
        _ = node("Softmax", [logits], attributes: [.int("axis", 1)], output: "probabilities")
    }

    /// conv → norm → ReLU, twice.
    mutating func doubleConvolution(_ name: String, _ input: String) throws -> String {
        var x = try convolution(name + ".conv1", input, kernel: 3)
        x = try normalizedReLU(name + ".norm1", x)
        x = try convolution(name + ".conv2", x, kernel: 3)
        return try normalizedReLU(name + ".norm2", x)
    }

    mutating func convolution(_ name: String, _ input: String, kernel: Int, output: String? = nil) throws -> String {
        guard let weight = arrays[name + ".weight"], weight.shape.count == 4, weight.shape[2] == kernel, weight.shape[3] == kernel else {
            throw UNetError.exportMissingArray(array: "\(name).weight", expected: "a \(kernel)×\(kernel) convolution")
        }
        var inputs = [input, try initializer(name + ".weight", shape: weight.shape)]
        if arrays[name + ".bias"] != nil { inputs.append(try initializer(name + ".bias", shape: [weight.shape[0]])) }
        let pad = kernel / 2
        return node("Conv", inputs, attributes: [.ints("kernel_shape", [kernel, kernel]), .ints("pads", [pad, pad, pad, pad])],
                    output: output)
    }

    mutating func normalizedReLU(_ name: String, _ input: String) throws -> String {
        switch configuration.normalization {
        case .none:
            return node("Relu", [input])
        case .batch:
            guard let channels = arrays[name + ".weight"]?.shape.first else {
                throw UNetError.exportMissingArray(array: "\(name).weight", expected: "")
            }
            let inputs = [input] + (try [".weight", ".bias", ".running_mean", ".running_var"].map {
                try initializer(name + $0, shape: [channels])
            })
            let normalized = node("BatchNormalization", inputs, attributes: [.float("epsilon", NormalizedReLU.epsilon)])
            return node("Relu", [normalized])
        case .group(let groups):
            guard let channels = arrays[name + ".weight"]?.shape.first else {
                throw UNetError.exportMissingArray(array: "\(name).weight", expected: "")
            }
            let shape = node("Shape", [input])
            let grouped = node("Reshape", [input, constant("groups", dims: [3], int64: [0, Int64(groups), -1])])
            let ones = constant("ones", dims: [groups], values: [Float](repeating: 1, count: groups))
            let zeros = constant("zeros", dims: [groups], values: [Float](repeating: 0, count: groups))
            let normalized = node("InstanceNormalization", [grouped, ones, zeros], attributes: [.float("epsilon", NormalizedReLU.epsilon)])
            let restored = node("Reshape", [normalized, shape])
            let gamma = try initializer(name + ".weight", shape: [channels], reshapedTo: [channels, 1, 1])
            let beta = try initializer(name + ".bias", shape: [channels], reshapedTo: [channels, 1, 1])
            return node("Relu", [node("Add", [node("Mul", [restored, gamma]), beta])])
        }
    }

    // MARK: Nodes and tensors

    enum Attribute {
        case int(String, Int)
        case ints(String, [Int])
        case float(String, Float)
        case string(String, String)
    }

    /// Appends a node; returns its (only) output name.
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], attributes: [Attribute] = [], output: String? = nil) -> String {
        counter += 1
        let name = output ?? "\(op.lowercased())_\(counter)"
        var n = ProtoWriter()
        for input in inputs { n.string(1, input) }
        n.string(2, name)
        n.string(3, "\(op)_\(counter)")
        n.string(4, op)
        for attribute in attributes {
            var a = ProtoWriter()
            switch attribute {
            case .int(let key, let value):
                a.string(1, key); a.int(3, Int64(value)); a.int(20, 2)
            case .ints(let key, let values):
                a.string(1, key); for v in values { a.int(8, Int64(v)) }; a.int(20, 7)
            case .float(let key, let value):
                a.string(1, key); a.float(2, value); a.int(20, 1)
            case .string(let key, let value):
                a.string(1, key); a.string(4, value); a.int(20, 3)
            }
            n.message(5, a)
        }
        nodes.append(n)
        return name
    }

    /// A named weight array as an initialiser (shape checked against `shape`).
    mutating func initializer(_ name: String, shape: [Int], reshapedTo dims: [Int]? = nil) throws -> String {
        guard let array = arrays[name], array.shape == shape, array.values.count == shape.reduce(1, *) else {
            throw UNetError.exportMissingArray(array: name, expected: "expected shape \(shape)")
        }
        let tensorName = dims == nil ? name : name + ".reshaped"
        initializers.append(ProtoWriter(raw: ONNXExport.tensor(name: tensorName, dims: dims ?? shape, values: array.values)))
        return tensorName
    }

    mutating func constant(_ stem: String, dims: [Int], values: [Float]) -> String {
        counter += 1
        let name = "\(stem)_\(counter)"
        initializers.append(ProtoWriter(raw: ONNXExport.tensor(name: name, dims: dims, values: values)))
        return name
    }

    mutating func constant(_ stem: String, dims: [Int], int64 values: [Int64]) -> String {
        counter += 1
        let name = "\(stem)_\(counter)"
        var t = ProtoWriter()
        for d in dims { t.int(1, Int64(d)) }
        t.int(2, 7) // INT64
        t.string(8, name)
        var raw: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.littleEndian) { raw.append(contentsOf: $0) } }
        t.bytes(9, raw)
        initializers.append(t)
        return name
    }

    func proto() -> ProtoWriter {
        var g = ProtoWriter()
        for n in nodes { g.message(1, n) }
        g.string(2, "cleave_unet")
        for t in initializers { g.message(5, t) }
        g.message(11, valueInfo("input", channels: configuration.inputChannels))
        g.message(12, valueInfo("logits", channels: configuration.classes))
        g.message(12, valueInfo("probabilities", channels: configuration.classes))
        return g
    }

    /// `ValueInfoProto`: float32 tensor N × channels × H × W with symbolic N, H, W.
    func valueInfo(_ name: String, channels: Int) -> ProtoWriter {
        var shape = ProtoWriter()
        for dim in ["N", "\(channels)", "H", "W"] {
            var d = ProtoWriter()
            if let value = Int64(dim) { d.int(1, value) } else { d.string(2, dim) }
            shape.message(1, d)
        }
        var tensor = ProtoWriter()
        tensor.int(1, 1) // elem_type FLOAT
        tensor.message(2, shape)
        var type = ProtoWriter()
        type.message(1, tensor)
        var info = ProtoWriter()
        info.string(1, name)
        info.message(2, type)
        return info
    }
}

/// Protocol-buffer wire format, the subset ONNX needs: varints (wire type 0), 32-bit floats
/// (wire type 5) and length-delimited fields (wire type 2).
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    init() {}
    init(raw: [UInt8]) { bytes = raw }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    /// An int32/int64/enum field (negative values as 10-byte two's complement, as protobuf does).
    mutating func int(_ field: Int, _ value: Int64) {
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }

    mutating func float(_ field: Int, _ value: Float) {
        tag(field, 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func bytes(_ field: Int, _ data: [UInt8]) {
        tag(field, 2)
        varint(UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    mutating func string(_ field: Int, _ text: String) { bytes(field, Array(text.utf8)) }

    mutating func message(_ field: Int, _ message: ProtoWriter) { bytes(field, message.bytes) }

    /// Floats as little-endian raw bytes in one length-delimited field.
    mutating func floats(_ field: Int, _ values: [Float]) {
        tag(field, 2)
        varint(UInt64(values.count * 4))
        bytes.reserveCapacity(bytes.count + values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
    }
}
