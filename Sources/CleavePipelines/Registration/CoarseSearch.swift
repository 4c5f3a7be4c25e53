import CleaveCore
import CleaveFilters
import Foundation

// The coarse global search of a registration (Reddy & Chatterji 1996, on edge images):
//
//   edges ──► |FFT| (translation-invariant) ──► log-polar ──► phase correlation ──► rotation, scale
//   moving edges warped by (rotation, scale) ──► phase correlation with fixed edges ──► translation
//
// Edges are what a class map and a grey image share: class borders in the map, grey gradients in
// the image. The Fourier magnitude of an image does not change when it is shifted, and a rotation
// or scaling of the image rotates or scales its magnitude spectrum, which in log-polar coordinates
// is a shift. The magnitude is symmetric, so rotations are found modulo 180°: both θ and θ + 180°
// become candidates, as do the two strongest peaks, each for the plain and the mirrored moving image.

/// Working-resolution images of the coarse search.
struct CoarseImages {
    /// Side of the working images' larger axis.
    static let workingSide = 256
    /// Angles (over 180°) and log-radii of the log-polar spectra.
    static let angleCount = 256, radiusCount = 128

    let movingFactor: Int, fixedFactor: Int
    let movingEdges: Image<Float>, fixedEdges: Image<Float>
    /// FFT side: a power of two holding both working images.
    let side: Int

    init(moving: RegistrationMovingImage, fixed: RegistrationFixedImage, workingSide: Int = CoarseImages.workingSide) {
        movingFactor = max(1, (max(moving.width, moving.height) + workingSide - 1) / workingSide)
        fixedFactor = max(1, (max(fixed.width, fixed.height) + workingSide - 1) / workingSide)
        if let grey = moving.grey {
            let small = boxDownsample(grey, width: moving.width, height: moving.height, factor: movingFactor)
            movingEdges = gaussianGradientMagnitude(small, sigma: Sigma(1))
        } else {
            let borders = classBorders(moving.classes, width: moving.width, height: moving.height)
            movingEdges = gaussian(boxDownsample(borders, width: moving.width, height: moving.height, factor: movingFactor), sigma: 1)
        }
        let small = boxDownsample(fixed.values, width: fixed.width, height: fixed.height, factor: fixedFactor)
        fixedEdges = gaussianGradientMagnitude(small, sigma: Sigma(1))
        var side = 1
        while side < max(movingEdges.width, movingEdges.height, fixedEdges.width, fixedEdges.height) { side *= 2 }
        self.side = side
    }

    /// Full-resolution pixel ↔ working pixel: working x covers full pixels [k·x, k·x + k).
    static func fromWorking(_ factor: Int) -> AffineTransform {
        let k = Double(factor)
        return AffineTransform(a: k, b: 0, tx: (k - 1) / 2, c: 0, d: k, ty: (k - 1) / 2)
    }
}

/// One starting point for refinement.
struct CoarseCandidate {
    var transform: AffineTransform
    var mirrored: Bool
    /// Height of the log-polar correlation peak it came from.
    var peak: Double
}

/// Rotation/scale/mirror candidates with translations, moving → fixed in full-resolution pixels.
func coarseCandidates(moving: RegistrationMovingImage, fixed: RegistrationFixedImage, images: CoarseImages,
                      model: RegistrationModel, mirror: MirrorSearch) -> [CoarseCandidate] {
    let n = images.side
    let fixedSpectrum = logPolarSpectrum(images.fixedEdges, side: n)
    let mirrors: [Bool] = mirror == .auto ? [false, true] : [mirror == .yes]
    let logStep = log(0.95 * Double(n) / 2 / 2) / Double(CoarseImages.radiusCount)
    var candidates: [CoarseCandidate] = []
    for mirrored in mirrors {
        let edges = mirrored ? flippedColumns(images.movingEdges) : images.movingEdges
        let movingSpectrum = logPolarSpectrum(edges, side: n)
        let rows = CoarseImages.angleCount, columns = 2 * CoarseImages.radiusCount
        let surface = phaseCorrelation(pad(fixedSpectrum, width: CoarseImages.radiusCount, height: rows, toWidth: columns, height: rows),
                                       pad(movingSpectrum, width: CoarseImages.radiusCount, height: rows, toWidth: columns, height: rows),
                                       width: columns, height: rows)
        for peak in strongestPeaks(surface, width: columns, height: rows, count: 2) {
            let angle = -Double.pi * Double(peak.y) / Double(rows)
            var shift = Double(peak.x)
            if shift > Double(CoarseImages.radiusCount) { shift -= Double(columns) }
            var scale = exp(-shift * logStep) * Double(images.fixedFactor) / Double(images.movingFactor)
            if model == .rigid { scale = 1 }
            for turn in [0.0, Double.pi] {
                let linear = AffineTransform.similarity(angleRadians: angle + turn, scale: scale, mirrored: mirrored, translation: (0, 0))
                let transform = translationByCorrelation(linear: linear, moving: moving, fixed: fixed, images: images)
                candidates.append(CoarseCandidate(transform: transform, mirrored: mirrored, peak: Double(peak.value)))
            }
        }
    }
    return candidates
}

/// Completes `linear` (translation ignored) with the translation that best aligns the warped
/// moving edges with the fixed edges (phase correlation, the moving centre starting on the fixed centre).
private func translationByCorrelation(linear: AffineTransform, moving: RegistrationMovingImage, fixed: RegistrationFixedImage,
                                      images: CoarseImages) -> AffineTransform {
    var start = linear
    let movingCenter = (x: Double(moving.width - 1) / 2, y: Double(moving.height - 1) / 2)
    let image = linear.apply(movingCenter.x, movingCenter.y)
    start.tx = Double(fixed.width - 1) / 2 - image.x
    start.ty = Double(fixed.height - 1) / 2 - image.y
    guard let inverse = start.inverse, let toMovingWorking = CoarseImages.fromWorking(images.movingFactor).inverse else { return start }
    // fixed working → fixed full → moving full → moving working
    let warp = toMovingWorking.composed(after: inverse.composed(after: CoarseImages.fromWorking(images.fixedFactor)))
    let width = images.fixedEdges.width, height = images.fixedEdges.height
    let warped = warpBilinear(images.movingEdges.pixels, width: images.movingEdges.width, height: images.movingEdges.height,
                              outputWidth: width, outputHeight: height, transform: warp.coefficients)
    let n = images.side
    let a = pad(windowed(images.fixedEdges.pixels, width: width, height: height), width: width, height: height, toWidth: n, height: n)
    let b = pad(windowed(warped, width: width, height: height), width: width, height: height, toWidth: n, height: n)
    let surface = phaseCorrelation(a, b, width: n, height: n)
    guard let peak = strongestPeaks(surface, width: n, height: n, count: 1).first else { return start }
    let offset = subpixelPeak(surface, width: n, height: n, x: peak.x, y: peak.y)
    var dx = offset.x, dy = offset.y
    if dx > Double(n) / 2 { dx -= Double(n) }
    if dy > Double(n) / 2 { dy -= Double(n) }
    start.tx += Double(images.fixedFactor) * dx
    start.ty += Double(images.fixedFactor) * dy
    return start
}

// MARK: - Spectra and correlation

/// The log-polar resampling (angles 0…180°, radii 2 … 0.95·side/2, log-spaced) of the high-passed
/// log Fourier magnitude of the mean-subtracted, Hann-windowed image padded to `side × side`.
func logPolarSpectrum(_ image: Image<Float>, side n: Int) -> [Float] {
    var real = pad(windowed(image.pixels, width: image.width, height: image.height), width: image.width, height: image.height,
                   toWidth: n, height: n)
    var imaginary = [Float](repeating: 0, count: n * n)
    fft2D(real: &real, imaginary: &imaginary, width: n, height: n)
    // Centred (fftshift) magnitude with a ramp high-pass that mutes the lowest frequencies.
    var magnitude = [Float](repeating: 0, count: n * n)
    let half = n / 2
    for v in 0..<n {
        for u in 0..<n {
            let i = v * n + u
            let m = (real[i] * real[i] + imaginary[i] * imaginary[i]).squareRoot()
            let su = (u + half) % n, sv = (v + half) % n
            let r = (Double((su - half) * (su - half) + (sv - half) * (sv - half))).squareRoot() / Double(half)
            magnitude[sv * n + su] = Float(log1p(Double(m) * min(2 * r, 1)))
        }
    }
    let angles = CoarseImages.angleCount, radii = CoarseImages.radiusCount
    let rMin = 2.0, rMax = 0.95 * Double(half)
    let step = log(rMax / rMin) / Double(radii)
    var out = [Float](repeating: 0, count: angles * radii)
    for i in 0..<angles {
        let theta = Double.pi * Double(i) / Double(angles)
        for j in 0..<radii {
            let r = rMin * exp(Double(j) * step)
            let x = Double(half) + r * cos(theta), y = Double(half) - r * sin(theta)
    out[i * radii + j] = bilinear(magnitude, width: n, height: n, x: x, y: y)
        }
    }
    return out
}

/// The normalised cross-power spectrum's inverse: peaks at d where a(p) ≈ b(p − d) (circular).
func phaseCorrelation(_ a: [Float], _ b: [Float], width: Int, height: Int) -> [Float] {
    var ar = a, ai = [Float](repeating: 0, count: a.count)
    var br = b, bi = [Float](repeating: 0, count: b.count)
    fft2D(real: &ar, imaginary: &ai, width: width, height: height)
    fft2D(real: &br, imaginary: &bi, width: width, height: height)
    for i in 0..<ar.count {
        // a · conj(b), normalised to unit magnitude
        let re = ar[i] * br[i] + ai[i] * bi[i], im = ai[i] * br[i] - ar[i] * bi[i]
        let m = (re * re + im * im).squareRoot() + 1e-12
        ar[i] = re / m; ai[i] = im / m
    }
    fft2D(real: &ar, imaginary: &ai, width: width, height: height, inverse: true)
    return ar
}

/// The `count` highest local maxima (3 × 3, circular neighbourhood), highest first; ties by index.
func strongestPeaks(_ surface: [Float], width: Int, height: Int, count: Int) -> [(x: Int, y: Int, value: Float)] {
    var peaks: [(x: Int, y: Int, value: Float)] = []
    for y in 0..<height {
        for x in 0..<width {
            let v = surface[y * width + x]
            var isPeak = true
            for dy in -1...1 where isPeak {
                for dx in -1...1 where !(dx == 0 && dy == 0) {
                    let u = surface[((y + dy + height) % height) * width + (x + dx + width) % width]
                    if u > v || (u == v && (dy < 0 || (dy == 0 && dx < 0))) { isPeak = false; break }
                }
            }
            if isPeak { peaks.append((x, y, v)) }
        }
    }
    peaks.sort { $0.value != $1.value ? $0.value > $1.value : ($0.y, $0.x) < ($1.y, $1.x) }
    return Array(peaks.prefix(count))
}

/// Peak position refined by a parabola through its neighbours along each axis (circular).
func subpixelPeak(_ surface: [Float], width: Int, height: Int, x: Int, y: Int) -> (x: Double, y: Double) {
    func at(_ u: Int, _ v: Int) -> Double { Double(surface[((v + height) % height) * width + (u + width) % width]) }
    func vertex(_ minus: Double, _ center: Double, _ plus: Double) -> Double {
        let denominator = minus - 2 * center + plus
        guard denominator < 0 else { return 0 }
        return min(0.5, max(-0.5, 0.5 * (minus - plus) / denominator))
    }
    return (Double(x) + vertex(at(x - 1, y), at(x, y), at(x + 1, y)),
            Double(y) + vertex(at(x, y - 1), at(x, y), at(x, y + 1)))
}

// MARK: - Small image helpers

/// Mean of each `factor × factor` block (partial blocks at the right and bottom edges average what they hold).
func boxDownsample(_ values: [Float], width: Int, height: Int, factor: Int) -> Image<Float> {
    let w = (width + factor - 1) / factor, h = (height + factor - 1) / factor
    var sums = [Float](repeating: 0, count: w * h), counts = [Float](repeating: 0, count: w * h)
    for y in 0..<height {
        let row = (y / factor) * w
        for x in 0..<width {
            sums[row + x / factor] += values[y * width + x]
            counts[row + x / factor] += 1
        }
    }
    for i in sums.indices { sums[i] /= counts[i] }
    return Image(shape: Shape(width: w, height: h), pixels: sums)
}

/// 1 where a pixel with a class touches (4-neighbourhood) a pixel of another class, else 0;
/// borders with no-data pixels (class 0) do not count.
func classBorders(_ classes: [UInt8], width: Int, height: Int) -> [Float] {
    var out = [Float](repeating: 0, count: classes.count)
    for y in 0..<height {
        for x in 0..<width {
            let i = y * width + x, k = classes[i]
            guard k != 0 else { continue }
            if x + 1 < width, classes[i + 1] != 0, classes[i + 1] != k { out[i] = 1; out[i + 1] = 1 }
            if y + 1 < height, classes[i + width] != 0, classes[i + width] != k { out[i] = 1; out[i + width] = 1 }
        }
    }
    return out
}

/// Mean-subtracted values times a separable Hann window over the image.
func windowed(_ values: [Float], width: Int, height: Int) -> [Float] {
    let mean = values.reduce(0, +) / Float(max(1, values.count))
    func hann(_ i: Int, _ n: Int) -> Float { n < 2 ? 1 : Float(0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(n - 1))) }
    let wx = (0..<width).map { hann($0, width) }, wy = (0..<height).map { hann($0, height) }
    var out = values
    for y in 0..<height { for x in 0..<width { out[y * width + x] = (values[y * width + x] - mean) * wx[x] * wy[y] } }
    return out
}

/// Copies a `width × height` array into the top-left corner of a zero `toWidth × height` array.
func pad(_ values: [Float], width: Int, height: Int, toWidth: Int, height toHeight: Int) -> [Float] {
    var out = [Float](repeating: 0, count: toWidth * toHeight)
    for y in 0..<height { for x in 0..<width { out[y * toWidth + x] = values[y * width + x] } }
    return out
}

/// The image mirrored left-right.
func flippedColumns(_ image: Image<Float>) -> Image<Float> {
    var out = image
    let w = image.width
    for y in 0..<image.height { for x in 0..<w { out.pixels[y * w + x] = image.pixels[y * w + (w - 1 - x)] } }
    return out
}

/// Bilinear sample at (x, y); 0 outside.
func bilinear(_ values: [Float], width: Int, height: Int, x: Double, y: Double) -> Float {
    guard x >= 0, y >= 0, x <= Double(width - 1), y <= Double(height - 1) else { return 0 }
    let x0 = min(Int(x), width - 2), y0 = min(Int(y), height - 2)
    let fx = Float(x - Double(x0)), fy = Float(y - Double(y0))
    let i = y0 * width + x0
    let top = values[i] + fx * (values[i + 1] - values[i])
    let bottom = values[i + width] + fx * (values[i + width + 1] - values[i + width])
    return top + fy * (bottom - top)
}
