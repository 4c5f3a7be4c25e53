import CleaveCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The pieces of ``SyntheticTileSet``: absorbance fields and the imaging model.
enum SampleField {
    /// Carbon-film absorbance: a base level, broad thickness variations and fine grain.
    static func film(width: Int, height: Int, random: inout SeededGenerator) -> [Float] {
        var field = [Float](repeating: 0.35, count: width * height)
        // Broad thickness bumps (separable Gaussians) and two slow waves.
        for _ in 0..<10 {
            let cx = random.nextDouble() * Double(width), cy = random.nextDouble() * Double(height)
            let sigma = 150 + random.nextDouble() * 450
            let amplitude = (random.nextDouble() - 0.5) * 0.16
            let gx = (0..<width).map { Float(exp(-0.5 * pow((Double($0) - cx) / sigma, 2))) }
            let gy = (0..<height).map { Float(amplitude * exp(-0.5 * pow((Double($0) - cy) / sigma, 2))) }
            for y in 0..<height where abs(gy[y]) > 1e-5 {
                let a = gy[y], row = y * width
                for x in 0..<width { field[row + x] += a * gx[x] }
            }
        }
        for _ in 0..<2 {
            let angle = random.nextDouble() * Double.pi
            let wavelength = 800 + random.nextDouble() * 1600
            let phase = random.nextDouble() * 2 * Double.pi
            let amplitude = 0.02 + random.nextDouble() * 0.03
            let kx = cos(angle) * 2 * Double.pi / wavelength, ky = sin(angle) * 2 * Double.pi / wavelength
            for y in 0..<height {
                for x in 0..<width {
                    field[y * width + x] += Float(amplitude * sin(kx * Double(x) + ky * Double(y) + phase))
                }
            }
        }
        // Fine grain: white noise smoothed by two 3×3 box passes.
        var grain = (0..<(width * height)).map { _ in Float(random.nextGaussian()) }
        for _ in 0..<2 { grain = boxBlur3(grain, width: width, height: height) }
        for i in field.indices { field[i] += 0.04 * grain[i] }
        return field
    }

    static func boxBlur3(_ a: [Float], width: Int, height: Int) -> [Float] {
        var h = a
        for y in 0..<height {
            let row = y * width
            for x in 1..<(width - 1) { h[row + x] = (a[row + x - 1] + a[row + x] + a[row + x + 1]) / 3 }
        }
        var v = h
        for y in 1..<(height - 1) {
            for x in 0..<width { v[y * width + x] = (h[(y - 1) * width + x] + h[y * width + x] + h[(y + 1) * width + x]) / 3 }
        }
        return v
    }

    /// Adds particle absorbance; returns the particle list.
    static func particles(into field: inout [Float], width: Int, height: Int, count: Int,
                          random: inout SeededGenerator) -> [SyntheticTileSet.Particle] {
        var list: [SyntheticTileSet.Particle] = []
        for _ in 0..<count {
            let u = random.nextDouble()
            let cx = 40 + random.nextDouble() * Double(width - 80)
            let cy = 40 + random.nextDouble() * Double(height - 80)
            if u < 0.5 {
                // Flake: an aggregate of grains.
                let radius = 25 + random.nextDouble() * 65
                let grains = 5 + random.next(below: 20)
                var peak = 0.0, reach = 0.0
                for _ in 0..<grains {
                    let gx = cx + random.nextGaussian() * radius * 0.45
                    let gy = cy + random.nextGaussian() * radius * 0.45
                    let r = 6 + random.nextDouble() * 14
                    let a = 0.25 + random.nextDouble() * 0.35
                    peak = max(peak, a)
                    reach = max(reach, ((gx - cx) * (gx - cx) + (gy - cy) * (gy - cy)).squareRoot() + r + 0.75)  // disk's soft edge
                    disk(&field, width: width, height: height, x: gx, y: gy, radius: r, absorbance: a)
                }
                list.append(.init(shape: .flake, x: cx, y: cy, size: 2 * radius, absorbance: peak, reach: reach))
            } else if u < 0.8 {
                // Rod / fibre.
                let length = 80 + random.nextDouble() * 270
                let thickness = 3 + random.nextDouble() * 4
                let angle = random.nextDouble() * Double.pi
                let a = 0.5 + random.nextDouble() * 0.4
                rod(&field, width: width, height: height, x: cx, y: cy, length: length, thickness: thickness, angle: angle, absorbance: a)
                list.append(.init(shape: .rod, x: cx, y: cy, size: length, absorbance: a, reach: length / 2 + thickness / 2 + 0.6))
            } else {
                // Faint blob (polymer-like).
                let sigma = 8 + random.nextDouble() * 12
                let a = 0.25 + random.nextDouble() * 0.2
                blob(&field, width: width, height: height, x: cx, y: cy, sigma: sigma, absorbance: a)
                let size = 2 * sigma * (2 * log(a / SyntheticTileSet.particleMaskThreshold)).squareRoot()
                list.append(.init(shape: .blob, x: cx, y: cy, size: size, absorbance: a, reach: size / 2))
            }
        }
        return list
    }

    static func disk(_ field: inout [Float], width: Int, height: Int, x: Double, y: Double, radius: Double, absorbance: Double) {
        let x0 = max(0, Int(x - radius - 2)), x1 = min(width - 1, Int(x + radius + 2))
        let y0 = max(0, Int(y - radius - 2)), y1 = min(height - 1, Int(y + radius + 2))
        guard x0 <= x1, y0 <= y1 else { return }
        for py in y0...y1 {
            for px in x0...x1 {
                let d = ((Double(px) - x) * (Double(px) - x) + (Double(py) - y) * (Double(py) - y)).squareRoot()
                let edge = min(max((radius - d) / 1.5 + 0.5, 0), 1)  // ~1.5 px soft edge
                if edge > 0 { field[py * width + px] += Float(absorbance * edge) }
            }
        }
    }

    static func rod(_ field: inout [Float], width: Int, height: Int, x: Double, y: Double, length: Double,
                    thickness: Double, angle: Double, absorbance: Double) {
        let dx = cos(angle), dy = sin(angle)
        let half = length / 2
        let reach = half + thickness + 2
        let x0 = max(0, Int(x - reach)), x1 = min(width - 1, Int(x + reach))
        let y0 = max(0, Int(y - reach)), y1 = min(height - 1, Int(y + reach))
        guard x0 <= x1, y0 <= y1 else { return }
        for py in y0...y1 {
            for px in x0...x1 {
                let rx = Double(px) - x, ry = Double(py) - y
                let along = min(max(rx * dx + ry * dy, -half), half)
                let ex = rx - along * dx, ey = ry - along * dy
                let d = (ex * ex + ey * ey).squareRoot()
                let edge = min(max((thickness / 2 - d) / 1.2 + 0.5, 0), 1)
                if edge > 0 { field[py * width + px] += Float(absorbance * edge) }
            }
        }
    }

    static func blob(_ field: inout [Float], width: Int, height: Int, x: Double, y: Double, sigma: Double, absorbance: Double) {
        let reach = 4 * sigma
        let x0 = max(0, Int(x - reach)), x1 = min(width - 1, Int(x + reach))
        let y0 = max(0, Int(y - reach)), y1 = min(height - 1, Int(y + reach))
        guard x0 <= x1, y0 <= y1 else { return }
        for py in y0...y1 {
            for px in x0...x1 {
                let r2 = (Double(px) - x) * (Double(px) - x) + (Double(py) - y) * (Double(py) - y)
                field[py * width + px] += Float(absorbance * exp(-0.5 * r2 / (sigma * sigma)))
            }
        }
    }

    /// Opaque grid bars: a slanted bar along the left side and one along the bottom.
    static func gridBars(width: Int, height: Int, random: inout SeededGenerator) -> [Bool] {
        var bars = [Bool](repeating: false, count: width * height)
        let left = (0.08 + random.nextDouble() * 0.1) * Double(width)
        let leftSlope = (random.nextDouble() - 0.3) * 0.25
        let bottom = (0.78 + random.nextDouble() * 0.1) * Double(height)
        let bottomSlope = (random.nextDouble() - 0.5) * 0.12
        for y in 0..<height {
            let edgeX = left + leftSlope * Double(y)
            for x in 0..<width {
                let edgeY = bottom + bottomSlope * Double(x)
                if Double(x) < edgeX || Double(y) > edgeY { bars[y * width + x] = true }
            }
        }
        return bars
    }

    /// Opaque bars of a square mesh rotated by `angle` degrees: pitch `pitch` pixels, each bar
    /// `pitch · (1 − √(1 − coverage))` wide, so that the open squares leave `1 − coverage` of an
    /// infinite field (the finite mosaic's share differs by where the bars fall; the truth masks
    /// say exactly). The mesh's offset is random.
    static func gridMesh(width: Int, height: Int, coverage: Double, angle: Double, pitch: Double,
                         random: inout SeededGenerator) -> [Bool] {
        let barWidth = pitch * (1 - (1 - coverage).squareRoot())
        let phaseU = random.nextDouble() * pitch, phaseV = random.nextDouble() * pitch
        let radians = angle * Double.pi / 180
        let c = cos(radians), s = sin(radians)
        var bars = [Bool](repeating: false, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let u = Double(x) * c + Double(y) * s + phaseU, v = -Double(x) * s + Double(y) * c + phaseV
                let du = u - pitch * (u / pitch).rounded(.down), dv = v - pitch * (v / pitch).rounded(.down)
                if du < barWidth || dv < barWidth { bars[y * width + x] = true }
            }
        }
        return bars
    }

    /// Per-tile exposure gains: `count` values evenly spaced over `1 − spread … 1 + spread`, in an
    /// order shuffled by `seed` (all 1 when `spread` is 0).
    static func exposures(count: Int, spread: Double, seed: UInt64) -> [Double] {
        guard spread > 0, count > 1 else { return [Double](repeating: 1, count: count) }
        var gains = (0..<count).map { 1 - spread + 2 * spread * Double($0) / Double(count - 1) }
        var random = SeededGenerator.stream(seed: seed, index: 1_000_003)  // beyond any tile's stream index
        for i in stride(from: count - 1, to: 0, by: -1) { gains.swapAt(i, random.next(below: i + 1)) }
        return gains
    }

    /// Images one tile: illumination, shot noise, detector.
    static func image(tileAt x0: Int, _ y0: Int, size: Int, row: Int, column: Int, mosaicWidth: Int,
                      film: [Float], particles: [Float], bars: [Bool], dose: Double, pixelSize: Double,
                      random: inout SeededGenerator) -> SyntheticTileSet.Tile {
        let beamX = Double(size) * (0.5 + (random.nextDouble() - 0.5) * 0.5)
        let beamY = Double(size) * (0.5 + (random.nextDouble() - 0.5) * 0.5)
        let brightness = 0.94 + random.nextDouble() * 0.12
        let falloff = 0.18 + random.nextDouble() * 0.12
        let gain = 36.0, offset = 400.0, readNoise = 20.0
        let radius2 = Double(size * size) / 2
        var pixels = [UInt16](repeating: 0, count: size * size)
        var particleMask = [UInt8](repeating: 0, count: size * size)
        var barMask = [UInt8](repeating: 0, count: size * size)
        for y in 0..<size {
            for x in 0..<size {
                let m = (y0 + y) * mosaicWidth + (x0 + x)
                let isBar = bars[m]
                let absorbance = Double(film[m] + particles[m]) + (isBar ? 7 : 0)
                let r2 = (Double(x) - beamX) * (Double(x) - beamX) + (Double(y) - beamY) * (Double(y) - beamY)
                let illumination = brightness * (1 - falloff * r2 / radius2)
                let electrons = random.nextPoisson(dose * illumination * exp(-absorbance))
                let counts = electrons * gain + offset + readNoise * random.nextGaussian()
                let i = y * size + x
                pixels[i] = UInt16(roundingClamping: counts)
                if isBar { barMask[i] = 255 } else if Double(particles[m]) >= SyntheticTileSet.particleMaskThreshold { particleMask[i] = 255 }
            }
        }
        let spacing = Spacing(pixelSize, unit: "nm")
        let shape = Shape(width: size, height: size)
        return SyntheticTileSet.Tile(row: row, column: column, x: x0, y: y0,
                                     image: Image(shape: shape, pixels: pixels, spacing: spacing),
                                     particleMask: Image(shape: shape, pixels: particleMask, spacing: spacing),
                                     barMask: Image(shape: shape, pixels: barMask, spacing: spacing))
    }
}
