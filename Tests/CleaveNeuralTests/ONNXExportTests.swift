import Testing
import CleaveCore
import CleaveNeural

/// The ONNX writer's wire format and graph, decoded here by hand. That the graph computes what
/// Cleave computes is checked by running exported models in onnxruntime
/// (`Tests/cli/acceptance.sh` → `Tests/cli/onnx_check.py`: logits agree to ~1e-5).
@Suite struct ONNXExportTests {
    /// A protobuf field: number, wire type, and its varint value or payload.
    struct Field { let number: Int; let wire: Int; let value: UInt64; let payload: [UInt8] }

    static func fields(_ bytes: [UInt8]) -> [Field] {
        var out: [Field] = [], i = 0
        func varint() -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                let b = bytes[i]; i += 1
                value |= UInt64(b & 0x7F) << shift
                shift += 7
                if b < 0x80 { return value }
            }
        }
        while i < bytes.count {
            let key = varint()
            let number = Int(key >> 3), wire = Int(key & 7)
            switch wire {
            case 0: out.append(Field(number: number, wire: 0, value: varint(), payload: []))
            case 2:
                let length = Int(varint())
                out.append(Field(number: number, wire: 2, value: 0, payload: Array(bytes[i..<(i + length)])))
                i += length
            case 5:
                out.append(Field(number: number, wire: 5, value: 0, payload: Array(bytes[i..<(i + 4)])))
                i += 4
            default: Issue.record("unexpected wire type \(wire)"); return out
            }
        }
        return out
    }

    static func text(_ f: Field) -> String { String(decoding: f.payload, as: UTF8.self) }

    @Test func tensorBytesFollowTheWireFormat() {
        // TensorProto{dims: [2], data_type: FLOAT, name: "x", raw_data: 1.0, −2.0 little-endian}
        let bytes = ONNXExport.tensor(name: "x", dims: [2], values: [1, -2])
        #expect(bytes == [0x08, 0x02, 0x10, 0x01, 0x42, 0x01, 0x78, 0x4A, 0x08,
                          0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0])
    }

    /// Op types of the graph's nodes, in order.
    static func graph(_ model: [UInt8]) throws -> (ops: [String], initializers: [String: [Float]], inputs: [String], outputs: [String]) {
        let top = fields(model)
        #expect(top.first { $0.number == 1 }?.value == 8) // ir_version
        let opset = try #require(top.first { $0.number == 8 })
        #expect(fields(opset.payload).first { $0.number == 2 }?.value == 17)
        let graph = fields(try #require(top.first { $0.number == 7 }).payload)
        var ops: [String] = [], initializers: [String: [Float]] = [:]
        for node in graph where node.number == 1 {
            ops.append(text(try #require(fields(node.payload).first { $0.number == 4 })))
        }
        for tensor in graph where tensor.number == 5 {
            let f = fields(tensor.payload)
            let name = text(try #require(f.first { $0.number == 8 }))
            guard f.first(where: { $0.number == 2 })?.value == 1, let raw = f.first(where: { $0.number == 9 })?.payload else { continue }
            initializers[name] = stride(from: 0, to: raw.count, by: 4).map { k in
                Float(bitPattern: UInt32(raw[k]) | UInt32(raw[k + 1]) << 8 | UInt32(raw[k + 2]) << 16 | UInt32(raw[k + 3]) << 24)
            }
        }
        func names(_ number: Int) -> [String] {
            graph.filter { $0.number == number }.compactMap { v in fields(v.payload).first { $0.number == 1 }.map(text) }
        }
        return (ops, initializers, names(11), names(12))
    }

    @Test func batchNormBilinearGraphHasEveryLayerAndWeight() throws {
        let configuration = UNetConfiguration(inputChannels: 2, classes: 3, depth: 2, baseWidth: 4)
        let weights = try UNet(configuration: configuration, seed: 5).weights()
        let model = try ONNXExport.model(weights, metadata: [("cleave.classes", "[]")])
        let (ops, initializers, inputs, outputs) = try Self.graph(model)
        let level = ["Conv", "BatchNormalization", "Relu", "Conv", "BatchNormalization", "Relu"]
        #expect(ops == level + ["MaxPool"] + level + ["Resize", "Conv", "Concat"] + level + ["Conv", "Softmax"])
        #expect(inputs == ["input"])
        #expect(outputs == ["logits", "probabilities"])
        // Every array of the network is in the file, value for value.
        for array in weights.arrays {
            #expect(initializers[array.name] == array.values, "\(array.name)")
        }
        let metadata = Self.fields(model).filter { $0.number == 14 }.map { Self.fields($0.payload).map(Self.text) }
        #expect(metadata == [["cleave.classes", "[]"]])
    }

    @Test func groupNormAndTransposedGraphs() throws {
        let group = UNetConfiguration(inputChannels: 1, classes: 2, depth: 2, baseWidth: 4, normalization: .group(2),
                                      upsampling: .transposed)
        let (ops, initializers, _, _) = try Self.graph(try ONNXExport.model(try UNet(configuration: group, seed: 1).weights()))
        let norm = ["Shape", "Reshape", "InstanceNormalization", "Reshape", "Mul", "Add", "Relu"]
        let level = ["Conv"] + norm + ["Conv"] + norm
        #expect(ops == level + ["MaxPool"] + level + ["ConvTranspose", "Concat"] + level + ["Conv", "Softmax"])
        #expect(initializers["decoder0.up.weight"]?.count == 8 * 4 * 2 * 2)

        let plain = UNetConfiguration(inputChannels: 1, classes: 2, depth: 1, baseWidth: 4, normalization: .none)
        let (plainOps, plainInitializers, _, _) = try Self.graph(try ONNXExport.model(try UNet(configuration: plain, seed: 1).weights()))
        #expect(plainOps == ["Conv", "Relu", "Conv", "Relu", "Conv", "Softmax"])
        #expect(plainInitializers["encoder0.conv1.bias"]?.count == 4)
    }

    @Test func missingArrayIsAClearError() throws {
        let configuration = UNetConfiguration(inputChannels: 1, classes: 2, depth: 2, baseWidth: 4)
        var weights = try UNet(configuration: configuration, seed: 1).weights()
        weights.arrays.removeAll { $0.name == "decoder0.up.weight" }
        #expect(throws: UNetError.self) { try ONNXExport.model(weights) }
    }
}
