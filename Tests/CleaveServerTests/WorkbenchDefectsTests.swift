import CleaveCore
import CleaveFormats
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The defects a new user hit in issue 22, at the API: stacks accepted and then failing late,
/// RGB-stored greyscale images that could not be clustered, reclassified objects that did not
/// reach the labels, object sets that could not be listed after a reload.
@Suite struct WorkbenchDefectsTests {
    /// A 64×64×5 16-bit stack: bright disks (3000) on a dark background (1000) with ±150 noise; the
    /// disks move from plane to plane. Returns the stack and its truth (1 = disk, 2 = background).
    static func diskStack() -> (Image<UInt16>, [UInt8]) {
        let shape = Shape(width: 64, height: 64, depth: 5)
        var image = Image<UInt16>(shape: shape)
        var truth = [UInt8](repeating: 2, count: shape.count)
        var state: UInt64 = 7
        for z in 0..<5 {
            let centers = [(16 + 2 * z, 18), (44, 20 + 3 * z), (30, 46 - z)]
            for y in 0..<64 {
                for x in 0..<64 {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    let noise = Int((state >> 33) % 301) - 150
                    let inside = centers.contains { (x - $0.0) * (x - $0.0) + (y - $0.1) * (y - $0.1) <= 49 }
                    let i = shape.index(column: x, row: y, plane: z)
                    image.pixels[i] = UInt16((inside ? 3000 : 1000) + noise)
                    if inside { truth[i] = 1 }
                }
            }
        }
        return (image, truth)
    }

    static func stroke(_ client: some TestClientProtocol, _ image: String, class value: Int, at point: (Double, Double), plane: Int,
                       status: HTTPResponse.Status = .created) async throws -> [String: Any] {
        let json = #"{"sessionId": "session-0001", "class": \#(value), "radius": 2.5, "points": [[\#(point.0), \#(point.1)]], "plane": \#(plane)}"#
        let response = try await client.execute(uri: "/api/images/\(image)/strokes", method: .post, headers: Harness.headers(), body: Harness.body(json))
        #expect(response.status == status, "stroke on plane \(plane): \(String(buffer: response.body))")
        return (try? Harness.object(response)) ?? [:]
    }

    /// A project with the first plane of ``diskStack()`` (64×64: disks at (16, 18), (44, 20),
    /// (30, 46), radius 7) as `name`, classes disk (1) and film (2), and two strokes of each: two
    /// disks and two film corners. `spacing: false` uploads it without a pixel size.
    static func disksProject(_ client: some TestClientProtocol, name: String = "disks.tif", filmClass: String = "film",
                             spacing: Bool = true) async throws -> (project: String, image: String) {
        var plane = diskStack().0.plane(0)
        if !spacing { plane.spacing = nil }
        let project = try await Harness.createProject(client)
        let image = try await Harness.uploadImage(client, project: project, name: name, bytes: try Harness.tiff(plane))
        try await Harness.post(client, "/api/projects/\(project)/classes", #"{"name": "disk"}"#, status: .created)
        try await Harness.post(client, "/api/projects/\(project)/classes", #"{"name": "\#(filmClass)"}"#, status: .created)
        for (x, y) in [(16, 18), (44, 20)] { _ = try await stroke(client, image, class: 1, at: (Double(x) + 0.5, Double(y) + 0.5), plane: 0) }
        for (x, y) in [(4, 4), (58, 58)] { _ = try await stroke(client, image, class: 2, at: (Double(x) + 0.5, Double(y) + 0.5), plane: 0) }
        return (project, image)
    }

    @Test func stacksArePaintedTrainedAndPredictedPlaneByPlane() async throws {
        let (_, app) = try Harness.workbench("server-defects-stack")
        let (stack, truth) = Self.diskStack()
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "stack.tif", bytes: try Harness.tiff(stack))
            let dto = try await Harness.get(client, "/api/images/\(image)")
            #expect(dto["depth"] as? Int == 5)

            // A plane outside the stack is refused with one line; strokes keep their plane.
            let outside = try await Self.stroke(client, image, class: 1, at: (16.5, 18.5), plane: 5, status: .badRequest)
            #expect(outside["error"] as? String == "plane must be 0 to 4 (stack.tif has 5 planes), got 5")
            for plane in [1, 3] {
                let centers = [(16 + 2 * plane, 18), (44, 20 + 3 * plane)]
                for (x, y) in centers { _ = try await Self.stroke(client, image, class: 1, at: (Double(x) + 0.5, Double(y) + 0.5), plane: plane) }
                for (x, y) in [(4, 4), (58, 58), (4, 58)] { _ = try await Self.stroke(client, image, class: 2, at: (Double(x) + 0.5, Double(y) + 0.5), plane: plane) }
            }
            let strokes = try await Harness.get(client, "/api/images/\(image)/strokes")["strokes"] as? [[String: Any]] ?? []
            #expect(Set(strokes.compactMap { $0["plane"] as? Int }) == [1, 3])

            _ = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "treeCount": 10, "bank": "fast", "seed": 1}"#)
            let predicted = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "session-0001"}"#)
            let predictionID = try #require((predicted["result"] as? [String: Any])?["predictionId"] as? String)
            let prediction = try await Harness.get(client, "/api/predictions/\(predictionID)")
            let region = try #require(prediction["region"] as? [String: Any])
            #expect(region["z"] as? Int == 0 && region["depth"] as? Int == 5)
            let fractions = prediction["fractions"] as? [[String: Any]] ?? []
            let counted: Int = fractions.map { ($0["pixels"] as? Int) ?? 0 }.reduce(0, +)
            #expect(counted == 64 * 64 * 5)

            // labels.tif: one page per plane, right on every plane (also on the planes never painted).
            let tiff = try await client.execute(uri: "/api/predictions/\(predictionID)/labels.tif", method: .get)
            guard case .uint8(let labels) = try ImageFile.read(data: [UInt8](tiff.body.readableBytesView)) else { Issue.record("not 8-bit"); return }
            #expect(labels.shape == Shape(width: 64, height: 64, depth: 5))
            for z in 0..<5 {
                let range = z * 4096..<(z + 1) * 4096
                let agree = range.filter { labels.pixels[$0] == truth[$0] }.count
                #expect(Double(agree) / 4096 > 0.95, "plane \(z): \(agree) of 4096 right")
            }
            // Probabilities: classes are channels, planes are slices.
            let probabilities = try await client.execute(uri: "/api/predictions/\(predictionID)/probabilities.tif", method: .get)
            let probabilityText = String(decoding: [UInt8](probabilities.body.readableBytesView), as: UTF8.self)
            #expect(probabilityText.contains("channels=2\n") && probabilityText.contains("slices=5\n"))

            // The class picture of any plane; a plane the result does not cover is refused.
            let plane2 = try await client.execute(uri: "/api/predictions/\(predictionID)/labels.png?opacity=1&plane=2", method: .get)
            #expect(plane2.status == .ok)
            let plane9 = try await client.execute(uri: "/api/predictions/\(predictionID)/labels.png?plane=9", method: .get)
            #expect(plane9.status == .badRequest && Harness.errorMessage(plane9) == "plane 9 is outside this result's planes 0 to 4")

            // A live preview of one plane's rectangle agrees with the whole-stack result there.
            let preview = try await Harness.run(client, "/api/images/\(image)/predict",
                                                #"{"sessionId": "session-0001", "region": {"x": 8, "y": 8, "width": 40, "height": 30, "z": 2, "depth": 1}}"#)
            let previewID = (preview["result"] as? [String: Any])?["predictionId"] as? String ?? ""
            let previewTIFF = try await client.execute(uri: "/api/predictions/\(previewID)/labels.tif", method: .get)
            guard case .uint8(let part) = try ImageFile.read(data: [UInt8](previewTIFF.body.readableBytesView)) else { return }
            #expect(part.shape == Shape(width: 40, height: 30))
            var same = 0
            for y in 0..<30 { for x in 0..<40 where part[x, y] == labels[x + 8, y + 8, 2] { same += 1 } }
            #expect(same == 1200)
            let bad = try await client.execute(uri: "/api/images/\(image)/predict", method: .post, headers: Harness.headers(),
                                               body: Harness.body(#"{"sessionId": "session-0001", "region": {"x": 0, "y": 0, "width": 8, "height": 8, "z": 4, "depth": 2}}"#))
            #expect(bad.status == .badRequest && Harness.errorMessage(bad) == "region (0, 0, plane 4, 8x8x2) is not inside the 64x64x5 stack")

            // Tiles of another plane; a plane outside the stack is not found.
            let tile0 = try await client.execute(uri: "/api/images/\(image)/tiles/0/0/0.png", method: .get)
            let tile4 = try await client.execute(uri: "/api/images/\(image)/tiles/0/0/0.png?plane=4", method: .get)
            #expect(tile4.status == .ok && tile0.body != tile4.body)
            let tile5 = try await client.execute(uri: "/api/images/\(image)/tiles/0/0/0.png?plane=5", method: .get)
            #expect(tile5.status == .notFound)

            // Reference labels: strong only where painted, on the planes painted.
            let reference = try await client.execute(uri: "/api/images/\(image)/reference/provenance.tif", method: .get)
            guard case .uint8(let provenance) = try ImageFile.read(data: [UInt8](reference.body.readableBytesView)) else { return }
            #expect(provenance.depth == 5)
            let strongPlanes = Set((0..<5).filter { z in (0..<4096).contains { provenance.pixels[z * 4096 + $0] == 2 } })
            #expect(strongPlanes == [1, 3])

            // Clustering a plane of the stack; objects of a stack prediction are 3D.
            let clustered = try await Harness.run(client, "/api/images/\(image)/cluster",
                                                  #"{"sessionId": "session-0001", "gridRows": 8, "gridColumns": 8, "clusterCount": 2, "excludeDark": false, "plane": 3}"#)
            let clustering = try await Harness.get(client, "/api/clusterings/\((clustered["result"] as? [String: Any])?["clusteringId"] as? String ?? "")")
            #expect(clustering["plane"] as? Int == 3)
            let objectsJob = try await Harness.run(client, "/api/images/\(image)/objects",
                                                   #"{"sessionId": "session-0001", "predictionId": "\#(predictionID)", "class": 1, "minimumSize": 20}"#)
            let set = try await Harness.get(client, "/api/objectsets/\((objectsJob["result"] as? [String: Any])?["objectSetId"] as? String ?? "")")
            #expect(set["count"] as? Int == 3, "disks that overlap from plane to plane are one 3D object each")
        }
    }

    @Test func greyStoredAsRGBIsClusteredAndTrueColourNeedsAChannel() async throws {
        let (_, app) = try Harness.workbench("server-defects-rgb")
        var grey = Image<UInt8>(shape: Shape(width: 64, height: 64, channels: 3))
        var colour = grey
        for y in 0..<64 {
            for x in 0..<64 {
                let v = UInt8((x < 32 ? 60 : 180) + (x * 7 + y * 13) % 20)
                for c in 0..<3 { grey[x, y, 0, c] = v; colour[x, y, 0, c] = c == 1 ? 255 - v : v }
            }
        }
        let greyBytes = try Harness.tiff(grey), colourBytes = try Harness.tiff(colour)
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let greyID = try await Harness.uploadImage(client, project: project, name: "grey-rgb.tif", bytes: greyBytes)
            let done = try await Harness.run(client, "/api/images/\(greyID)/cluster", #"{"sessionId": "session-0001", "gridRows": 4, "gridColumns": 4, "clusterCount": 2}"#)
            #expect(done["state"] as? String == "done")

            let colourID = try await Harness.uploadImage(client, project: project, name: "colour.tif", bytes: colourBytes)
            let refused = try await client.execute(uri: "/api/images/\(colourID)/cluster", method: .post, headers: Harness.headers(),
                                                   body: Harness.body(#"{"sessionId": "session-0001", "gridRows": 4, "gridColumns": 4, "clusterCount": 2}"#))
            #expect(refused.status == .badRequest)
            #expect(Harness.errorMessage(refused) == "colour.tif has 3 colour channels that differ (true colour); clustering works on one grey channel: choose a channel (0 = red, 1 = green, 2 = blue) or convert the image to greyscale")
            let chosen = try await Harness.run(client, "/api/images/\(colourID)/cluster",
                                               #"{"sessionId": "session-0001", "gridRows": 4, "gridColumns": 4, "clusterCount": 2, "channel": 1}"#)
            #expect(chosen["state"] as? String == "done")
            let badChannel = try await client.execute(uri: "/api/images/\(colourID)/cluster", method: .post, headers: Harness.headers(),
                                                      body: Harness.body(#"{"sessionId": "session-0001", "channel": 3}"#))
            #expect(Harness.errorMessage(badChannel) == "channel must be 0 to 2 (colour.tif has 3 channels), got 3")
        }
    }

    @Test func reclassifiedObjectsReachLabelsFractionsAndReference() async throws {
        let (_, app) = try Harness.workbench("server-defects-reclassify")
        try await app.test(.router) { client in
            let (_, image) = try await WorkbenchDefectsTests.disksProject(client)
            _ = try await Harness.run(client, "/api/images/\(image)/train", #"{"sessionId": "session-0001", "treeCount": 10, "bank": "fast", "seed": 1}"#)
            let predicted = try await Harness.run(client, "/api/images/\(image)/predict", #"{"sessionId": "session-0001"}"#)
            let predictionID = try #require((predicted["result"] as? [String: Any])?["predictionId"] as? String)
            func labels() async throws -> [UInt8] {
                let tiff = try await client.execute(uri: "/api/predictions/\(predictionID)/labels.tif", method: .get)
                guard case .uint8(let image) = try ImageFile.read(data: [UInt8](tiff.body.readableBytesView)) else { return [] }
                return image.pixels
            }
            let before = try await labels()
            let beforeFractions = try await Harness.get(client, "/api/predictions/\(predictionID)")["fractions"] as? [[String: Any]] ?? []
            let job = try await Harness.run(client, "/api/images/\(image)/objects",
                                            #"{"sessionId": "session-0001", "predictionId": "\#(predictionID)", "class": 1, "minimumSize": 20}"#)
            let setID = try #require((job["result"] as? [String: Any])?["objectSetId"] as? String)
            let set = try await Harness.get(client, "/api/objectsets/\(setID)")
            let first = try #require((set["objects"] as? [[String: Any]])?.first)
            let area = Int(((first["values"] as? [String: Any])?["area"] as? Double) ?? 0)
            #expect(area > 20)

            // A name that is no class labels the object only.
            try await Harness.post(client, "/api/objectsets/\(setID)/objects/1/class", #"{"sessionId": "session-0001", "class": "aggregate"}"#)
            #expect(try await labels() == before)
            // A class of the project reaches the labels, the fractions and the reference (strong: corrected by hand).
            try await Harness.post(client, "/api/objectsets/\(setID)/objects/1/class", #"{"sessionId": "session-0001", "class": "film"}"#)
            let after = try await labels()
            let changed = zip(before, after).filter { $0 != $1 }.count
            #expect(changed == area)
            #expect(zip(before, after).allSatisfy { $0 == $1 || ($0 == 1 && $1 == 2) })
            let afterFractions = try await Harness.get(client, "/api/predictions/\(predictionID)")["fractions"] as? [[String: Any]] ?? []
            let pixelsBefore: [Int] = beforeFractions.map { ($0["pixels"] as? Int) ?? 0 }
            let pixelsAfter: [Int] = afterFractions.map { ($0["pixels"] as? Int) ?? 0 }
            #expect(pixelsAfter == [pixelsBefore[0] - area, pixelsBefore[1] + area])
            let provenanceTIFF = try await client.execute(uri: "/api/images/\(image)/reference/provenance.tif", method: .get)
            let referenceTIFF = try await client.execute(uri: "/api/images/\(image)/reference/labels.tif", method: .get)
            guard case .uint8(let provenance) = try ImageFile.read(data: [UInt8](provenanceTIFF.body.readableBytesView)),
                  case .uint8(let reference) = try ImageFile.read(data: [UInt8](referenceTIFF.body.readableBytesView)) else { return }
            let corrected = before.indices.filter { before[$0] != after[$0] }
            // Corrected by hand: provenance 3 (corrected), except under the disk strokes (painted: 2).
            #expect(!corrected.isEmpty && corrected.allSatisfy { provenance.pixels[$0] == 3 || provenance.pixels[$0] == 2 })
            #expect(corrected.filter { provenance.pixels[$0] == 3 }.count > corrected.count / 2)
            // The class there is film, except under the disk strokes (painted later, so they win).
            let painted = { (i: Int) -> Bool in
                [(16.5, 18.5), (44.5, 20.5)].contains { p in
                    let dx = Double(i % 64) + 0.5 - p.0, dy = Double(i / 64) + 0.5 - p.1
                    return dx * dx + dy * dy <= 2.5 * 2.5
                }
            }
            #expect(corrected.allSatisfy { reference.pixels[$0] == (painted($0) ? 1 : 2) })

            // The object sets of an image can be listed (the page reopens them after a reload).
            let list = try await Harness.get(client, "/api/images/\(image)/objectsets")["objectSets"] as? [[String: Any]] ?? []
            #expect(list.map { $0["id"] as? String } == [setID])
            #expect(((list.first?["objects"] as? [[String: Any]])?.first?["class"] as? String) == "film")
        }
    }
}
