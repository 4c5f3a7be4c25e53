import CleaveCore
import CleaveFormats
import CleaveRender
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 22, item 1: multi-channel images shown with per-channel contrast — each channel's window
/// (its own 0.5–99.5 percentiles on request) and colour, added into one RGB composite tile.
@Suite struct ChannelCompositeTests {
    /// A 3-channel 16-bit 64×32 image: channel 0 = 10 × column, channel 1 = 1000 + 7 × row,
    /// channel 2 = 500 everywhere except 60000 in the top-left 8×8 corner.
    static func threeChannels() -> Image<UInt16> {
        var image = Image<UInt16>(shape: Shape(width: 64, height: 32, channels: 3))
        for row in 0..<32 {
            for column in 0..<64 {
                image[column, row, 0, 0] = UInt16(10 * column)
                image[column, row, 0, 1] = UInt16(1000 + 7 * row)
                image[column, row, 0, 2] = column < 8 && row < 8 ? 60000 : 500
            }
        }
        return image
    }

    /// numpy.percentile(values, [0.5, 99.5]) (linear interpolation), as Display.percentileWindow.
    static func percentiles(_ values: [Double]) -> (Double, Double) {
        let sorted = values.sorted()
        func at(_ p: Double) -> Double {
            let position = p / 100 * Double(sorted.count - 1)
            let lo = Int(position.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
            return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - Double(lo))
        }
        return (at(0.5), at(99.5))
    }

    @Test func compositeTilesAddEachChannelThroughItsWindowInItsColour() async throws {
        let image = Self.threeChannels()
        let layers = [TilePyramid.Layer(channel: 0, window: 0...630, colour: RGB(255, 0, 255)),
                      TilePyramid.Layer(channel: 1, window: 1000...1217, colour: RGB(0, 255, 0)),
                      TilePyramid.Layer(channel: 2, window: 0...60000, colour: RGB(0, 0, 128))]
        let tile = try #require(TilePyramid.renderComposite(.uint16(image), level: 0, column: 0, row: 0, layers: layers))
        #expect(tile.shape == Shape(width: 64, height: 32, channels: 3))
        func grey(_ value: Double, _ window: ClosedRange<Double>) -> Double {
            (min(max((value - window.lowerBound) / (window.upperBound - window.lowerBound), 0), 1) * 255).rounded()
        }
        for (column, row) in [(0, 0), (5, 5), (20, 3), (63, 31), (40, 16)] {
            let a = grey(Double(10 * column), 0...630), b = grey(Double(1000 + 7 * row), 1000...1217)
            let c = grey(column < 8 && row < 8 ? 60000 : 500, 0...60000)
            let expected = [min(a, 255), min(b, 255), min(a + (c * 128 / 255), 255)].map { UInt8($0.rounded()) }
            #expect([tile[column, row, 0, 0], tile[column, row, 0, 1], tile[column, row, 0, 2]] == expected, "(\(column), \(row))")
        }
        // One channel in grey through a window is the grey tile of that window.
        let single = try #require(TilePyramid.renderComposite(.uint16(image), level: 0, column: 0, row: 0,
                                                              layers: [.init(channel: 0, window: 0...630, colour: RGB(255, 255, 255))]))
        let plain = try #require(TilePyramid.render(.uint16(image), level: 0, column: 0, row: 0, window: 0...630))
        #expect((0..<3).allSatisfy { c in (0..<32).allSatisfy { r in (0..<64).allSatisfy { single[$0, r, 0, c] == plain[$0, r] } } })
        // A channel the image does not have: no tile.
        #expect(TilePyramid.renderComposite(.uint16(image), level: 0, column: 0, row: 0,
                                            layers: [.init(channel: 3, window: 0...1, colour: RGB(255, 0, 0))]) == nil)
    }

    @Test func windowsPerChannelAndCompositeTilesThroughTheAPI() async throws {
        let (_, app) = try Harness.workbench("server-channels")
        let image = Self.threeChannels()
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let id = try await Harness.uploadImage(client, project: project, name: "three.tif", bytes: try Harness.tiff(image))
            #expect(try await Harness.get(client, "/api/images/\(id)")["channels"] as? Int == 3)
            for channel in 0..<3 {
                let window = try await Harness.get(client, "/api/images/\(id)/window?channel=\(channel)")
                let values = image.channel(channel).pixels.map(Double.init)
                let (low, high) = Self.percentiles(values)
                let auto = window["auto"] as? [String: Any]
                #expect(auto?["low"] as? Double == low && auto?["high"] as? Double == high, "channel \(channel): \(window)")
            }
            let outside = try await client.execute(uri: "/api/images/\(id)/window?channel=3", method: .get)
            #expect(outside.status == .badRequest && Harness.errorMessage(outside) == "channel must be 0 to 2 (three.tif has 3 channels), got 3")

            let response = try await client.execute(uri: "/api/images/\(id)/tiles/0/0/0.png?channels=0:0:630:ff00ff,1:1000:1217:00ff00", method: .get)
            #expect(response.status == .ok)
            let tile = try TileRoutesTests.decode(response)
            #expect(tile.shape.channels == 3 && tile.width == 64 && tile.height == 32)
            #expect([tile[63, 0, 0, 0], tile[63, 0, 0, 1], tile[63, 0, 0, 2]] == [255, 0, 255])
            #expect([tile[0, 31, 0, 0], tile[0, 31, 0, 1], tile[0, 31, 0, 2]] == [0, 255, 0])
            // Served again from the tile cache, byte for byte.
            let again = try await client.execute(uri: "/api/images/\(id)/tiles/0/0/0.png?channels=0:0:630:ff00ff,1:1000:1217:00ff00", method: .get)
            #expect(Array(again.body.readableBytesView) == Array(response.body.readableBytesView))

            for (query, message) in [("0:0:630", "channels: each entry is channel:low:high:rrggbb (e.g. 0:100:4000:ff00ff), got 0:0:630"),
                                     ("3:0:1:ff0000", "channels: channel must be 0 to 2, got 3"),
                                     ("0:5:5:ff0000", "channels: channel 0 needs finite low < high, got low=5 high=5"),
                                     ("0:0:1:ff0000,0:0:2:00ff00", "channels: channel 0 is given twice"),
                                     ("0:0:1:ff0000,1:0:1:ff0000,2:0:1:ff0000,0:0:1:ff0000", "channels: give 1 to 3 entries channel:low:high:rrggbb, got 4")] {
                let refused = try await client.execute(uri: "/api/images/\(id)/tiles/0/0/0.png?channels=\(query)", method: .get)
                #expect(refused.status == .badRequest && Harness.errorMessage(refused) == message, "\(query): \(Harness.errorMessage(refused))")
            }
        }
    }
}
