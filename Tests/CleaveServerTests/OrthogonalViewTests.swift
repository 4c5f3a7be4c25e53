import CleaveCore
import CleaveFormats
import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 22, item 1: orthogonal views of a stack — XZ through a row, YZ through a column — are
/// exactly the stack's voxels through the window, one pixel per voxel.
@Suite struct OrthogonalViewTests {
    @Test func xzAndYZSlicesAreTheStacksVoxels() async throws {
        let (_, app) = try Harness.workbench("server-orthogonal")
        let (stack, _) = WorkbenchDefectsTests.diskStack()
        // grey = (value − 850) / (3200 − 850) · 255, clipped, rounded: the tile's rule.
        @Sendable func grey(_ value: UInt16) -> UInt8 {
            UInt8((min(max((Double(value) - 850) / 2350, 0), 1) * 255).rounded())
        }
        try await app.test(.router) { client in
            let project = try await Harness.createProject(client)
            let image = try await Harness.uploadImage(client, project: project, name: "stack.tif", bytes: try Harness.tiff(stack))
            func slice(_ query: String) async throws -> Image<UInt8> {
                try TileRoutesTests.decode(try await client.execute(uri: "/api/images/\(image)/orthogonal/\(query)", method: .get))
            }
            let xz = try await slice("xz.png?at=20&low=850&high=3200")
            #expect(xz.width == 64 && xz.height == 5)
            #expect((0..<5).allSatisfy { z in (0..<64).allSatisfy { x in xz[x, z] == grey(stack[x, 20, z]) } })
            let yz = try await slice("yz.png?at=44&low=850&high=3200")
            #expect(yz.width == 5 && yz.height == 64)
            #expect((0..<5).allSatisfy { z in (0..<64).allSatisfy { y in yz[z, y] == grey(stack[44, y, z]) } })
            // The disk at (44, 20 + 3z) moves down through the planes: bright in YZ where it is.
            #expect((0..<5).allSatisfy { z in yz[z, 20 + 3 * z] > 200 })
            // Default: the middle row through the image's default window.
            let middle = try await slice("xz.png")
            #expect(middle.width == 64 && middle.height == 5)

            for (query, status, message) in [("xz.png?at=64", HTTPResponse.Status.badRequest, "at must be a row 0 to 63 of stack.tif, got 64"),
                                             ("yz.png?at=-1", .badRequest, "at must be a column 0 to 63 of stack.tif, got -1"),
                                             ("zz.png", .badRequest, "axis must be xz or yz, got zz"),
                                             ("xz.png?low=5", .badRequest, "give both low and high, or neither"),
                                             ("xz", .notFound, "orthogonal views are named xz.png or yz.png, got xz")] {
                let response = try await client.execute(uri: "/api/images/\(image)/orthogonal/\(query)", method: .get)
                #expect(response.status == status && Harness.errorMessage(response) == message, "\(query): \(Harness.errorMessage(response))")
            }
        }
    }
}
