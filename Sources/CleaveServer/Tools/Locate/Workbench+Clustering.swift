import CleaveCore
import CleaveFeatures
import CleaveFormats
import CleaveLearning
import CleavePipelines
import CleaveRender
import Foundation
import Hummingbird

/// `POST /api/images/{id}/cluster`: the Locator's settings (``LocatorSettings``, the type and checks
/// `cleave locate` uses, same field names) plus the workbench's own fields, in one JSON object.
public struct ClusterInput: Codable, Sendable {
    /// The page session that asked (recorded with the `cluster.run` event).
    public var sessionId: String?
    /// The page's clock when it asked (ISO 8601), if sent; recorded with the event.
    public var clientTime: String?
    /// The plane of a stack to cluster (0-based, default 0).
    public var plane: Int?
    /// The colour channel to cluster (needed only when the channels differ: true colour).
    public var channel: Int?
    /// A clustering whose Pick taught a model (``ClusteringDTO/pickModel``): this image is then
    /// classified by that model (its sampling, statistics and pick classifier) instead of clustered.
    public var pickModelFrom: String?
    /// Every Locator field (mode, gridRows, clusterCount, …), checked by ``LocatorSettings/options()``.
    public var settings: LocatorSettings

    private enum CodingKeys: String, CodingKey { case sessionId, clientTime, plane, channel, pickModelFrom }

    /// Reads the workbench's own fields and every Locator field from the same flat JSON object.
    ///
    /// - Throws: a `DecodingError` naming the field when a field has the wrong type.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sessionId = try container.decodeIfPresent(String.self, forKey: .sessionId)
        clientTime = try container.decodeIfPresent(String.self, forKey: .clientTime)
        plane = try container.decodeIfPresent(Int.self, forKey: .plane)
        channel = try container.decodeIfPresent(Int.self, forKey: .channel)
        pickModelFrom = try container.decodeIfPresent(String.self, forKey: .pickModelFrom)
        settings = try LocatorSettings(from: decoder)
    }

    /// Writes the Locator fields and the workbench's own fields into one flat JSON object (the form
    /// stored as the clustering's `params`).
    public func encode(to encoder: Encoder) throws {
        try settings.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(sessionId, forKey: .sessionId)
        try container.encodeIfPresent(clientTime, forKey: .clientTime)
        try container.encodeIfPresent(plane, forKey: .plane)
        try container.encodeIfPresent(channel, forKey: .channel)
        try container.encodeIfPresent(pickModelFrom, forKey: .pickModelFrom)
    }
}

/// What a Pick taught: the Locator model (format version 3, centroids + pick classifier) stored
/// with the clustering (`GET /api/clusterings/{id}/model.json`, usable with `cleave locate --model`).
public struct PickModelDTO: Codable, Equatable, Sendable {
    /// The picked clusters the classifier learned (after merges).
    public var picked: [Int]
    /// The name the user gave the pick (e.g. "particles"); the model's class name.
    public var name: String?
    /// Patches the forest was trained on (nil when learning failed).
    public var trainingPatches: Int?
    /// The forest's out-of-bag accuracy (0…1) on the training patches (nil when learning failed).
    public var outOfBagAccuracy: Double?
    /// Why no model could be learned (e.g. the dark group was picked); the pick itself stands.
    public var error: String?
}

/// One cluster of a clustering.
public struct ClusterDTO: Codable, Equatable, Sendable {
    /// The cluster's label number (0-based; the value in the clustering's label map).
    public var index: Int
    /// Patches (or windows) in the cluster, after merges.
    public var size: Int
    /// The share of all patches in this cluster (0…1).
    public var fraction: Double
    /// The overlay colour as `#rrggbb` (a dark slate for the dark group).
    public var colour: String
    /// Mean raw feature value of the cluster's patches.
    public var signature: [String: Double]
    /// The Locator's particle score (mean over the members) that the automatic pick ranks by; nil
    /// when not finite.
    public var particleScore: Double?
    /// The name a pick gave the cluster ("dark / grid bars" for the dark group); nil when unnamed.
    public var name: String?
    /// Class value a pick assigned (weak reference labels), if any.
    public var `class`: Int?
    /// Whether the user picked this cluster (or the pick model taught the pick).
    public var picked: Bool
    /// The cluster this one was merged into.
    public var mergedInto: Int?
}

/// A clustering result.
public struct ClusteringDTO: ResponseCodable, Equatable, Sendable {
    /// The clustering's id (the `{clusteringId}` of its routes).
    public var id: String
    /// The id of the image that was clustered.
    public var imageId: String
    /// The job that computed it.
    public var jobId: String?
    /// The request as sent (``ClusterInput`` as JSON); a pick re-runs the Locator with it.
    public var params: JSONValue
    /// Clusters k found, without the dark group.
    public var clusterCount: Int
    /// The names of the patch features the clusters were found on (the keys of each ``ClusterDTO/signature``).
    public var featureNames: [String]
    /// Whether the features came from the feature cache (an earlier run on the same plane) instead
    /// of being computed.
    public var featuresCached: Bool
    /// Patches (or windows) clustered, over all clusters.
    public var patchCount: Int
    /// The overlay PNG is the image downsampled by this factor (stretch it over the whole image).
    public var overlayScale: Int
    /// The overlay PNG's width in pixels: the image width divided by ``overlayScale``, rounded up.
    public var overlayWidth: Int
    /// The overlay PNG's height in pixels: the image height divided by ``overlayScale``, rounded up.
    public var overlayHeight: Int
    /// Every cluster by label number, the dark group included.
    public var clusters: [ClusterDTO]
    /// The plane of a stack that was clustered (absent = 0).
    public var plane: Int? = nil
    /// The Locator's automatic pick (most particle-like cluster).
    public var suggestedPick: Int
    /// The label of the dark group (two-step mode: the darkest patches, e.g. grid bars), else nil.
    public var darkGroup: Int?
    /// Mean silhouette (−1…1) on a sample of 1 000 patches; nil when skipped or undefined.
    public var silhouette: Double?
    /// open | accepted | rejected
    public var state: String
    /// Seconds per Locator stage (laps of the same stage summed).
    public var timings: [String: Double]
    /// When it was stored (ISO 8601, UTC).
    public var createdAt: String
    /// The model the last Pick taught (nil before any pick).
    public var pickModel: PickModelDTO? = nil
    /// The clustering whose pick model classified this image (nil: clustered).
    public var pickModelFrom: String? = nil
    /// How the clusters were found: "clustering", or "classifier" / "centroids" with a pick model.
    public var route: String? = nil
}

/// Which patch owns each pixel: patch column per x, patch row per y (-1 = none). Grid patches and
/// window cells are separable, so two short arrays describe the whole label map.
struct ClusterGeometry: Codable, Sendable {
    var rows: Int
    var columns: Int
    var columnOfX: [Int32]
    var rowOfY: [Int32]

    init(layout: LocatorLayout, width: Int, height: Int) {
        let grid = layout.grids[0]
        rows = grid.rows; columns = grid.columns
        var columnOfX = [Int32](repeating: -1, count: width), rowOfY = [Int32](repeating: -1, count: height)
        for c in 0..<grid.columns {
            let r = layout.ownedRegion(image: 0, row: 0, column: c)
            for x in max(0, r.x)..<min(width, r.x + r.width) { columnOfX[x] = Int32(c) }
        }
        for row in 0..<grid.rows {
            let r = layout.ownedRegion(image: 0, row: row, column: 0)
            for y in max(0, r.y)..<min(height, r.y + r.height) { rowOfY[y] = Int32(row) }
        }
        self.columnOfX = columnOfX; self.rowOfY = rowOfY
    }

    /// Patch index of pixel (x, y), or nil.
    func patch(x: Int, y: Int) -> Int? {
        guard x >= 0, x < columnOfX.count, y >= 0, y < rowOfY.count else { return nil }
        let c = columnOfX[x], r = rowOfY[y]
        guard c >= 0, r >= 0 else { return nil }
        return Int(r) * columns + Int(c)
    }
}

extension Workbench {
    /// Longest side of a clustering overlay PNG: enough for 8-pixel cells on a 4096² image, small
    /// enough to encode in tens of milliseconds (the page stretches it over the image).
    static let overlayMaxSide = 512

    /// Turns the page's settings into Locator options (the command line's checks and defaults).
    /// - Throws: 400 naming the field.
    static func locatorOptions(_ input: ClusterInput) throws -> LocatorOptions {
        do { return try input.settings.options() } catch { throw APIError(.badRequest, error) }
    }

    /// Starts a clustering job (202 + job). Features come from the cache when the image was
    /// clustered before with the same sampling and features.
    public func startClustering(imageID: String, userID: String, input: ClusterInput) async throws -> JobDTO {
        let actor = try Actor(userID: userID, sessionID: input.sessionId, clientTime: input.clientTime)
        let image = try await image(id: imageID)
        let options = try Workbench.locatorOptions(input)
        let (grey, cacheKey) = try Workbench.clusteringPlane(image: image, decoded: try await decoded(image).image,
                                                             plane: input.plane, channel: input.channel)
        let params = try JSONValue.from(input)
        var model: LocatorModel? = nil
        if let from = input.pickModelFrom { model = try await pickModel(clusteringID: from) }
        let pickModel = model
        return try jobs.submit(kind: "cluster", imageID: imageID, projectID: image.projectId, params: params) { [self] context in
            try runClustering(image: image, decoded: grey, cacheKey: cacheKey, plane: input.plane, options: options, params: params,
                              pickModelFrom: input.pickModelFrom, model: pickModel, actor: actor, context: context)
        }
    }

    /// The saved pick model of clustering `id` (400 when it has none).
    func pickModel(clusteringID id: String) async throws -> LocatorModel {
        let source = try await clustering(id: id)
        guard source.pickModel?.trainingPatches != nil else {
            throw APIError(.badRequest, "pickModelFrom: clustering \(id) has no pick model; pick a cluster in it first")
        }
        do {
            return try LocatorModel.load(results.path("clusterings", id, "model.json"))
        } catch { throw APIError(.internalServerError, "pickModelFrom: \(error)") }
    }

    /// The Locator run of a clustering: cached features, then the one pipeline function
    /// (``Locator/run(_:features:options:model:truth:silhouetteSampleSize:findTargets:progress:)``).
    /// A pick model's features depend on its film level, so they are cached under the model too.
    private func locatorRun(image: ImageDTO, decoded: AnyImage, cacheKey: String, options: LocatorOptions, model: LocatorModel?,
                            modelKey: String?, progress: (Int) -> CleaveCore.Progress) throws -> (result: LocatorResult, cached: Bool) {
        let input = try features.locatorImage(sha256: cacheKey) { try Locator.image(decoded, name: image.name) }
        let key = LocatorFeatures.key(for: options) + (modelKey.map { "|model=\($0)" } ?? "")
        var cached = true
        let extracted: LocatorFeatures
        if let hit = features.features(image: cacheKey, key: key) {
            extracted = hit
        } else {
            cached = false
            do { extracted = try Locator.features([input], options: options, model: model, progress: progress(0)) }
            catch { throw APIError(.badRequest, error) }
            features.store(extracted, image: cacheKey, key: key)
        }
        // Interactive: silhouette on 1 000 rows (its cost grows with the square), no target ranking.
        do {
            return (try Locator.run([input], features: extracted, options: options, model: model, silhouetteSampleSize: 1_000,
                                    findTargets: false, progress: progress(1)), cached)
        } catch { throw APIError(.badRequest, error) }
    }

    private func runClustering(image: ImageDTO, decoded: AnyImage, cacheKey: String, plane: Int?, options: LocatorOptions,
                               params: JSONValue, pickModelFrom: String?, model: LocatorModel?, actor: Actor,
                               context: JobContext) throws -> JSONValue {
        let start = DispatchTime.now().uptimeNanoseconds
        let (result, cached) = try locatorRun(image: image, decoded: decoded, cacheKey: cacheKey, options: options, model: model,
                                              modelKey: pickModelFrom, progress: { context.progress(stage: $0, of: 2) })
        try context.checkCancelled()

        let id = Workbench.newID()
        let total = result.labels.count
        var clusters: [ClusterDTO] = []
        for label in 0..<result.clusterSizes.count {
            let members = result.labels.enumerated().filter { $0.element == Int32(label) }.map(\.offset)
            var signature: [String: Double] = [:]
            for (f, name) in result.featureNames.enumerated() where !members.isEmpty {
                let mean = members.reduce(0.0) { $0 + Double(result.features[$1, f]) } / Double(members.count)
                if mean.isFinite { signature[name] = mean }
            }
            let score = result.particleScores[label]
            let isDark = result.darkGroup == label
            // A pick model's picked clusters arrive picked, under the name the user gave them.
            let taught = !isDark && (model?.classifier?.picked.contains(Int32(label)) ?? false)
            clusters.append(ClusterDTO(index: label, size: result.clusterSizes[label],
                                       fraction: Double(result.clusterSizes[label]) / Double(max(total, 1)),
                                       colour: (isDark ? RGB(70, 70, 90) : Palette.distinct(forIndex: label)).hex,
                                       signature: signature, particleScore: score.isFinite ? score : nil,
                                       name: isDark ? "dark / grid bars" : taught ? model?.classifier?.pickedName : nil, class: nil,
                                       picked: taught, mergedInto: nil))
        }
        let scale = max(1, (max(image.width, image.height) + Workbench.overlayMaxSide - 1) / Workbench.overlayMaxSide)
        var timings: [String: Double] = [:]
        for lap in result.timings { timings[lap.stage, default: 0] += lap.seconds }
        let dto = ClusteringDTO(id: id, imageId: image.id, jobId: context.id, params: params, clusterCount: result.clusterCount,
                                featureNames: result.featureNames, featuresCached: cached, patchCount: total,
                                overlayScale: scale, overlayWidth: (image.width + scale - 1) / scale,
                                overlayHeight: (image.height + scale - 1) / scale, clusters: clusters, plane: plane,
                                suggestedPick: result.picked, darkGroup: result.darkGroup, silhouette: result.silhouette,
                                state: "open", timings: timings, createdAt: Workbench.now(), pickModelFrom: pickModelFrom,
                                route: result.pickedBy == "classifier" ? "classifier" : model == nil ? "clustering" : "centroids")
        let geometry = ClusterGeometry(layout: result.layout, width: image.width, height: image.height)
        try results.write(result.labels, kind: "clusterings", id: id, part: "labels")
        try results.write(Array(try JSONEncoder().encode(geometry)), kind: "clusterings", id: id, part: "geometry.json")
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        try database.write { db in
            try db.insert(dto)
            try Workbench.record("cluster.run", by: actor, projectID: image.projectId, imageID: image.id, payload: [
                "clusteringId": .string(id), "jobId": .string(context.id), "algorithm": .string(options.method.rawValue),
                "clusterCount": .number(Double(options.clusterCount)), "features": .array(options.features.map { .string($0.rawValue) }),
                "sampling": .string(options.sampling.description), "scaler": .string(options.scaler.rawValue),
                "reduction": .string(options.reduction.description), "seed": .number(Double(options.seed)),
                "excludeDark": .bool(options.excludeDark), "featuresCached": .bool(cached), "seconds": .number(seconds),
                "modelVersion": .string("locator-\(LocatorModel.formatVersion)")], db)
        }
        return .object(["clusteringId": .string(id)])
    }

    /// One clustering, or 404.
    public func clustering(id: String) async throws -> ClusteringDTO {
        try await get(ClusteringDTO.self, id)
    }

    /// The image's clusterings, oldest first.
    public func clusterings(imageID: String) async throws -> [ClusteringDTO] {
        _ = try await image(id: imageID)
        return try await list(ClusteringDTO.self, "image_id", imageID, orderBy: "created_at, id")
    }

    /// Changes a clustering in one transaction with its event.
    private func changeClustering(id: String, actor: Actor, event: String, payload: [String: JSONValue],
                                  change: @escaping @Sendable (inout ClusteringDTO, any SQLConnection) throws -> Void) async throws -> ClusteringDTO {
        let existing = try await clustering(id: id)
        let image = try await image(id: existing.imageId)
        return try await database.write { db in
            var dto = try Workbench.get(ClusteringDTO.self, id, db)
            try change(&dto, db)
            try db.update(dto, columns: ["summary", "state"])
            var full = payload
            full["clusteringId"] = .string(id)
            try Workbench.record(event, by: actor, projectID: image.projectId, imageID: image.id, payload: full, db)
            return dto
        }
    }

    /// The cluster a merged cluster now belongs to.
    static func root(_ index: Int, in clusters: [ClusterDTO]) -> Int {
        var current = index, steps = 0
        while let next = clusters[current].mergedInto, steps < clusters.count { current = next; steps += 1 }
        return current
    }

    /// Picks a cluster and names it; `classValue` (or a project class with that name) makes its
    /// patches weak reference labels of that class.
    public func pickCluster(id: String, userID: String, sessionID: String?, clientTime: String?, cluster: Int,
                            name rawName: String, classValue: Int?) async throws -> ClusteringDTO {
        let actor = try Actor(userID: userID, sessionID: sessionID, clientTime: clientTime)
        let name = String(rawName.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }).trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(name.count) else { throw APIError(.badRequest, "name must be 1 to 100 characters, got \(name.count)") }
        let existing = try await clustering(id: id)
        guard cluster >= 0, cluster < existing.clusters.count else {
            throw APIError(.badRequest, "cluster must be 0 to \(existing.clusters.count - 1), got \(cluster)")
        }
        let projectID = try await image(id: existing.imageId).projectId
        let classes = try await classes(projectID: projectID)
        var resolved: Int? = nil
        if let classValue {
            guard classes.contains(where: { $0.value == classValue }) else {
                throw APIError(.badRequest, "class \(classValue) is not a class of this project (have \(classes.map { String($0.value) }.joined(separator: ", ")))")
            }
            resolved = classValue
        } else {
            resolved = classes.first(where: { $0.name.lowercased() == name.lowercased() })?.value
        }
        let classResolved = resolved
        // The picks teach a model (the same pipeline function as `cleave locate --save-model`).
        var picked = Set(existing.clusters.filter(\.picked).map(\.index))
        picked.insert(Workbench.root(cluster, in: existing.clusters))
        let learned = await learnPickModel(existing, picked: picked.sorted(), name: name)
        return try await changeClustering(id: id, actor: actor, event: "cluster.pick",
                                          payload: ["cluster": .number(Double(cluster)), "name": .string(name),
                                                    "class": classResolved.map { .number(Double($0)) } ?? .null,
                                                    "pickModel": learned.trainingPatches == nil ? .string("none: \(learned.error ?? "")")
                                                        : .string("locator-\(LocatorModel.formatVersion) classifier")]) { dto, _ in
            let target = Workbench.root(cluster, in: dto.clusters)
            dto.clusters[target].picked = true
            dto.clusters[target].name = name
            dto.clusters[target].class = classResolved
            dto.pickModel = learned
        }
    }

    /// Learns the pick model of a clustering (``Locator/learnPicks(_:labels:picked:name:progress:)``
    /// on its Locator run, with the merges applied) and stores it as the clustering's `model.json`.
    /// A failure is reported in the result, not thrown: the pick itself stands.
    func learnPickModel(_ dto: ClusteringDTO, picked: [Int], name: String) async -> PickModelDTO {
        var outcome = PickModelDTO(picked: picked, name: name)
        do {
            let image = try await image(id: dto.imageId)
            let input = try JSONDecoder().decode(ClusterInput.self, from: Data(JSONValue.text(dto.params).utf8))
            var model: LocatorModel? = nil
            if let from = input.pickModelFrom { model = try await pickModel(clusteringID: from) }
            let (grey, cacheKey) = try Workbench.clusteringPlane(image: image, decoded: try await decoded(image).image,
                                                                 plane: input.plane, channel: input.channel)
            let run = try locatorRun(image: image, decoded: grey, cacheKey: cacheKey, options: try Workbench.locatorOptions(input),
                                     model: model, modelKey: input.pickModelFrom, progress: { _ in .silent }).result
            let labels = try effectiveClusterLabels(dto).labels
            let learned = try Locator.learnPicks(run, labels: labels, picked: picked, name: name)
            try results.write(Array(try JSONEncoder().encode(learned)), kind: "clusterings", id: dto.id, part: "model.json")
            outcome.trainingPatches = learned.classifier?.trainingPatches
            outcome.outOfBagAccuracy = learned.classifier?.forest.outOfBagAccuracy
        } catch let error as APIError {
            outcome.error = error.message
        } catch {
            outcome.error = String(describing: error)
        }
        return outcome
    }

    /// The pick model file of a clustering (404 before a pick taught one).
    public func pickModelFile(clusteringID id: String) async throws -> [UInt8] {
        let dto = try await clustering(id: id)
        guard dto.pickModel?.trainingPatches != nil else {
            throw APIError(.notFound, "clustering \(id) has no pick model" + (dto.pickModel?.error.map { " (\($0))" } ?? "; pick a cluster first"))
        }
        return try results.read(kind: "clusterings", id: id, part: "model.json")
    }

    /// Merges cluster `b` into `a` (sizes add up; the overlay shows `a`'s colour for both).
    public func mergeClusters(id: String, userID: String, sessionID: String?, clientTime: String?, clusters pair: [Int]) async throws -> ClusteringDTO {
        let actor = try Actor(userID: userID, sessionID: sessionID, clientTime: clientTime)
        let existing = try await clustering(id: id)
        guard pair.count == 2, pair.allSatisfy({ $0 >= 0 && $0 < existing.clusters.count }) else {
            throw APIError(.badRequest, "clusters must be two cluster indices 0 to \(existing.clusters.count - 1), got \(pair)")
        }
        let a = Workbench.root(pair[0], in: existing.clusters), b = Workbench.root(pair[1], in: existing.clusters)
        guard a != b else { throw APIError(.badRequest, "clusters \(pair[0]) and \(pair[1]) are already one cluster") }
        return try await changeClustering(id: id, actor: actor, event: "cluster.merge",
                                          payload: ["clusters": .array(pair.map { .number(Double($0)) })]) { dto, _ in
            dto.clusters[b].mergedInto = a
            dto.clusters[a].size += dto.clusters[b].size
            dto.clusters[a].fraction += dto.clusters[b].fraction
            dto.clusters[b].size = 0
            dto.clusters[b].fraction = 0
            if dto.clusters[b].picked { dto.clusters[a].picked = true; dto.clusters[a].name = dto.clusters[a].name ?? dto.clusters[b].name
                dto.clusters[a].class = dto.clusters[a].class ?? dto.clusters[b].class }
            dto.clusters[b].picked = false
        }
    }

    /// Accepts or rejects a clustering.
    public func judgeClustering(id: String, userID: String, sessionID: String?, clientTime: String?, accept: Bool) async throws -> ClusteringDTO {
        let actor = try Actor(userID: userID, sessionID: sessionID, clientTime: clientTime)
        return try await changeClustering(id: id, actor: actor, event: accept ? "accept" : "reject",
                                          payload: ["resultType": .string("clustering"), "resultId": .string(id)]) { dto, _ in
            dto.state = accept ? "accepted" : "rejected"
        }
    }

    /// Per-patch labels with merges applied (-1 for unowned never happens here; dark group kept).
    func effectiveClusterLabels(_ dto: ClusteringDTO) throws -> (labels: [Int32], geometry: ClusterGeometry) {
        var labels = try results.readArray(Int32.self, kind: "clusterings", id: dto.id, part: "labels")
        let geometry = try JSONDecoder().decode(ClusterGeometry.self,
                                                from: Data(try results.read(kind: "clusterings", id: dto.id, part: "geometry.json")))
        let map = (0..<dto.clusters.count).map { Int32(Workbench.root($0, in: dto.clusters)) }
        for i in labels.indices where labels[i] >= 0 && Int(labels[i]) < map.count { labels[i] = map[Int(labels[i])] }
        return (labels, geometry)
    }

    /// The cluster under image pixel (x, y).
    public func cluster(at x: Int, _ y: Int, clusteringID: String) async throws -> Int? {
        let dto = try await clustering(id: clusteringID)
        let (labels, geometry) = try effectiveClusterLabels(dto)
        return geometry.patch(x: x, y: y).map { Int(labels[$0]) }
    }

    /// The RGBA overlay: each pixel coloured by its cluster (after merges), alpha = opacity.
    public func clusteringOverlayPNG(id: String, opacity: Double) async throws -> [UInt8] {
        guard opacity.isFinite, (0...1).contains(opacity) else { throw APIError(.badRequest, "opacity must be 0 to 1, got \(opacity)") }
        let dto = try await clustering(id: id)
        let (labels, geometry) = try effectiveClusterLabels(dto)
        let colours = dto.clusters.map { RGB(hex: $0.colour) ?? RGB(0, 0, 0) }
        let scale = dto.overlayScale, w = dto.overlayWidth, h = dto.overlayHeight
        let alpha = UInt8((opacity * 255).rounded())
        var out = Image<UInt8>(shape: Shape(width: w, height: h, channels: 4))
        out.pixels.withUnsafeMutableBufferPointer { p in
            let plane = w * h
            for oy in 0..<h {
                for ox in 0..<w {
                    guard let patch = geometry.patch(x: ox * scale + scale / 2 >= geometry.columnOfX.count ? ox * scale : ox * scale + scale / 2,
                                                     y: oy * scale + scale / 2 >= geometry.rowOfY.count ? oy * scale : oy * scale + scale / 2) else { continue }
                    let label = Int(labels[patch])
                    guard label >= 0, label < colours.count else { continue }
                    let c = colours[label], i = oy * w + ox
                    // Picked clusters are drawn stronger so the choice stays visible.
                    let a = dto.clusters[label].picked ? UInt8(min(255, Int(alpha) + 60)) : alpha
                    p[i] = c.red; p[plane + i] = c.green; p[2 * plane + i] = c.blue; p[3 * plane + i] = a
                }
            }
        }
        return try ImageFile.encode(out, as: .png)
    }
}

extension ClusteringDTO: SummaryRecord {
    static let table = "clusterings"
    static let noun = "clustering"
    func indexColumns() -> [(name: String, value: (any SQLValueConvertible)?)] {
        [("id", id), ("image_id", imageId), ("job_id", jobId), ("state", state), ("created_at", createdAt)]
    }
}
