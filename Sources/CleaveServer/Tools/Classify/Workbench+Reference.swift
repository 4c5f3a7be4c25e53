import CleaveCore
import CleaveFormats
import Foundation
import Hummingbird

/// What the reference labels of an image are made of.
public struct ReferenceDTO: ResponseCodable, Equatable, Sendable {
    /// The image these labels are of.
    public var imageId: String
    /// The image width in pixels (the label and provenance TIFFs have this size).
    public var width: Int
    /// The image height in pixels.
    public var height: Int
    /// Pixels with provenance 2 or 3 (painted, or corrected on a result).
    public var strongPixels: Int
    /// Of those, pixels with provenance 3 (a result corrected by hand: correction tools, reclassified objects).
    public var correctedPixels: Int
    /// Pixels with provenance 1 (picked cluster, accepted result).
    public var weakPixels: Int
    /// Labelled pixels per class value (text keys).
    public var classes: [String: Int]
    /// Strokes in force (painted and not undone).
    public var activeStrokes: Int
    /// Strokes undone within ``Workbench/slipSeconds`` of being drawn (slips; never used).
    public var discardedStrokes: Int
    /// Strokes undone later (changed minds; not used either).
    public var undoneStrokes: Int
    /// Ids of the clusterings whose picks gave weak labels.
    public var clusterings: [String]
    /// Ids of the predictions that gave labels (accepted ones weak, hand corrections strong);
    /// rejected predictions never do.
    public var predictions: [String]
    /// Where to download the label TIFF (class value per pixel, 0 unlabelled).
    public var labelsURL: String
    /// Where to download the provenance TIFF (``Provenance`` code per pixel).
    public var provenanceURL: String
}

/// Provenance codes of reference pixels.
public enum Provenance {
    /// No label here (never labelled, or erased).
    public static let none: UInt8 = 0
    /// A picked cluster or a result accepted without change.
    public static let weak: UInt8 = 1
    /// Painted by hand (brush strokes).
    public static let strong: UInt8 = 2
    /// A result corrected by hand (correction brush, lasso or fill; a reclassified object): as
    /// strong as painting, kept apart so that studies can weigh the two kinds of evidence.
    public static let corrected: UInt8 = 3
}

extension Workbench {
    /// A stroke undone within this many seconds of being drawn counts as a slip.
    public static let slipSeconds = 10.0

    /// Derives the image's reference labels and their provenance from what was recorded.
    ///
    /// Order of painting (later wins): picked clusters of clusterings that were not rejected (weak),
    /// accepted predictions (weak), then active strokes (strong; eraser strokes clear label and
    /// provenance) — so a correction painted over an accepted result is strong.
    public func reference(imageID: String) async throws -> (labels: [UInt8], provenance: [UInt8], summary: ReferenceDTO) {
        let image = try await image(id: imageID)
        let clusterings = try await clusterings(imageID: imageID)
        let predictions = try await predictions(imageID: imageID)
        let all = try await strokes(imageID: imageID, includeUndone: true)
        let undoTimes = try await database.read { db in
            try SQLRow.fetchAll(db, sql: "SELECT payload, server_time FROM events WHERE image_id = ? AND type = 'undo' ORDER BY id",
                             arguments: [imageID]).compactMap { row -> (Int, String)? in
                guard let payload = JSONValue.parse(row["payload"]), let id = payload["strokeId"]?.numberValue else { return nil }
                return (Int(id), row["server_time"])
            }
        }
        let result = try await Workbench.offload { [self] in
            try derive(image: image, clusterings: clusterings, predictions: predictions, strokes: all, undoTimes: undoTimes)
        }
        return result
    }

    private func derive(image: ImageDTO, clusterings: [ClusteringDTO], predictions: [PredictionDTO], strokes all: [StrokeDTO],
                        undoTimes: [(Int, String)]) throws -> (labels: [UInt8], provenance: [UInt8], summary: ReferenceDTO) {
        let imageID = image.id
        let width = image.width, height = image.height, planeSize = width * height
        // Plane-major over a stack's planes.
        var labels = [UInt8](repeating: 0, count: planeSize * image.depth)
        var provenance = [UInt8](repeating: 0, count: planeSize * image.depth)
        var usedClusterings: [String] = [], usedPredictions: [String] = []

        for clustering in clusterings where clustering.state != "rejected" {
            let chosen = clustering.clusters.filter { $0.picked && $0.class != nil }
            guard !chosen.isEmpty else { continue }
            let (patchLabels, geometry) = try effectiveClusterLabels(clustering)
            var classOf = [UInt8](repeating: 0, count: clustering.clusters.count)
            for c in chosen { classOf[c.index] = UInt8(clamping: c.class ?? 0) }
            let offset = min(max(clustering.plane ?? 0, 0), image.depth - 1) * planeSize
            for y in 0..<height {
                for x in 0..<width {
                    guard let patch = geometry.patch(x: x, y: y) else { continue }
                    let label = Int(patchLabels[patch])
                    guard label >= 0, label < classOf.count, classOf[label] != 0 else { continue }
                    labels[offset + y * width + x] = classOf[label]
                    provenance[offset + y * width + x] = Provenance.weak
                }
            }
            usedClusterings.append(clustering.id)
        }
        // Accepted predictions are weak labels; objects reclassified by hand (corrections) are strong
        // in any prediction not rejected.
        for prediction in predictions where prediction.state != "rejected" {
            let accepted = prediction.state == "accepted"
            let corrections = predictionCorrections(prediction)
            guard accepted || corrections != nil else { continue }
            let values = try predictionLabels(prediction)
            let r = prediction.region
            for z in 0..<r.planeCount {
                for y in 0..<r.height {
                    for x in 0..<r.width {
                        let source = (z * r.height + y) * r.width + x
                        let mark = corrections.map { source < $0.count ? $0[source] : 0 } ?? 0
                        let corrected = mark == Workbench.correctedMark
                        // A correction to a class deleted since is no label at all.
                        guard values[source] != 0, mark != Workbench.discardedCorrectionMark, accepted || corrected else { continue }
                        let target = (z + r.firstPlane) * planeSize + (y + r.y) * width + x + r.x
                        labels[target] = values[source]
                        provenance[target] = corrected ? Provenance.corrected : Provenance.weak
                    }
                }
            }
            usedPredictions.append(prediction.id)
        }
        let active = all.filter { $0.state == "active" }
        // Painting is strong evidence; erasing withdraws any label there (provenance none).
        StrokeRaster.paint(active, width: width, height: height, depth: image.depth, into: &labels) { index, value in
            provenance[index] = value == 0 ? Provenance.none : Provenance.strong
        }

        // Slips: strokes whose first undo came within `slipSeconds`.
        var firstUndo: [Int: String] = [:]
        for (id, time) in undoTimes where firstUndo[id] == nil { firstUndo[id] = time }
        var discarded = 0, undone = 0
        for stroke in all where stroke.state != "active" {
            if let undoTime = firstUndo[Int(stroke.id)], let a = Workbench.date(stroke.createdAt), let b = Workbench.date(undoTime),
               b.timeIntervalSince(a) <= Workbench.slipSeconds {
                discarded += 1
            } else {
                undone += 1
            }
        }
        var classes: [String: Int] = [:]
        var strong = 0, weak = 0, corrected = 0
        for i in labels.indices where labels[i] != 0 {
            classes[String(labels[i]), default: 0] += 1
            if provenance[i] >= Provenance.strong { strong += 1 } else { weak += 1 }
            if provenance[i] == Provenance.corrected { corrected += 1 }
        }
        let summary = ReferenceDTO(imageId: imageID, width: width, height: height, strongPixels: strong, correctedPixels: corrected, weakPixels: weak,
                                   classes: classes, activeStrokes: active.count, discardedStrokes: discarded, undoneStrokes: undone,
                                   clusterings: usedClusterings, predictions: usedPredictions,
                                   labelsURL: "/api/images/\(imageID)/reference/labels.tif",
                                   provenanceURL: "/api/images/\(imageID)/reference/provenance.tif")
        return (labels, provenance, summary)
    }

    /// The reference labels or provenance as an 8-bit TIFF with the image's pixel size.
    public func referenceTIFF(imageID: String, provenance wantProvenance: Bool) async throws -> [UInt8] {
        let image = try await image(id: imageID)
        let (labels, provenance, _) = try await reference(imageID: imageID)
        return try ImageFile.encode(Image<UInt8>(shape: Shape(width: image.width, height: image.height, depth: image.depth),
                                                 pixels: wantProvenance ? provenance : labels,
                                                 spacing: image.spacing.map { Spacing(x: $0.x, y: $0.y, unit: $0.unit) }), as: .tiff)
    }

    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
