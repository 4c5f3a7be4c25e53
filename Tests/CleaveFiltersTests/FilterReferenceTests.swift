import Testing
import CleaveCore
import CleaveFilters

/// Compares every filter with scipy.ndimage / scikit-image on a real 32×24 crop of the sandstone
/// XRM slice 0000 (and a synthetic 3D volume). Reference numbers come from
/// `bench/filters/make_reference.py`, e.g.
///
/// ```python
/// crop = tifffile.imread('.../Sandstone_Versa0000.tif')[640:664, 704:736].astype(np.float32)
/// ndi.gaussian_filter(crop, 1.0)                        # gaussian_s1
/// ndi.gaussian_filter(crop, 1.5, order=(0, 1))          # dx_s1.5  (order is (row, column))
/// hessian_matrix_eigvals([g(crop,1.6,(2,0)), g(crop,1.6,(1,1)), g(crop,1.6,(0,2))])
/// structure_tensor_eigenvalues([g(gr*gr,.5), g(gr*gc,.5), g(gc*gc,.5)])  # gr = g(crop,1,(1,0))
/// ndi.uniform_filter(crop, 5); ndi.minimum_filter(crop, 5); ndi.maximum_filter(crop, 7)
/// ```
@Suite struct FilterReferenceTests {
    static let crop = Image<Float>(shape: Shape(width: 32, height: 24), pixels: FilterReference.crop.map(Float.init))

    /// The synthetic volume of make_reference.py: depth 8, height 10, width 12.
    static let volume: Image<Float> = {
        var pixels: [Float] = []
        for z in 0..<8 {
            for y in 0..<10 {
                for x in 0..<12 {
                    let wave = 40 * Foundationless.sin(0.7 * Double(x) + 0.3 * Double(z)) * Foundationless.cos(0.5 * Double(y))
                    pixels.append(Float(100 + wave + Double((x * 7 + y * 13 + z * 5) % 11) * 3))
                }
            }
        }
        return Image(shape: Shape(width: 12, height: 10, depth: 8), pixels: pixels)
    }()

    func check(_ image: Image<Float>, _ name: String, tolerance: Double = 2e-5, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let reference = FilterReference.cases[name] else {
            Issue.record("no reference case \(name)", sourceLocation: sourceLocation)
            return
        }
        let scale = max(1, reference.points.map(abs).max()!)
        let values: [Double]
        if image.depth > 1 {
            values = FilterReference.volumePoints.map { Double(image[$0.column, $0.row, $0.plane]) }
        } else {
            values = FilterReference.referencePoints.map { Double(image[$0.column, $0.row]) }
        }
        for (i, (got, want)) in zip(values, reference.points).enumerated() {
            #expect(abs(got - want) <= tolerance * scale, "\(name) point \(i): \(got) vs \(want)", sourceLocation: sourceLocation)
        }
        let sum = image.pixels.reduce(0.0) { $0 + Double($1) }
        let squares = image.pixels.reduce(0.0) { $0 + Double($1) * Double($1) }
        let n = Double(image.pixels.count)
        #expect(abs(sum - reference.sum) <= tolerance * scale * n, "\(name) sum \(sum) vs \(reference.sum)", sourceLocation: sourceLocation)
        #expect(abs(squares - reference.sumOfSquares) <= max(2 * tolerance, 1e-12) * max(1, reference.sumOfSquares),
                "\(name) sum of squares \(squares) vs \(reference.sumOfSquares)", sourceLocation: sourceLocation)
    }

    @Test func gaussianMatchesScipy() {
        check(gaussian(Self.crop, sigma: 1.0), "gaussian_s1")
        check(gaussian(Self.crop, sigma: 2.5), "gaussian_s2.5")
        // Radius 40 > image size: reflection must repeat periodically like scipy's.
        check(gaussian(Self.crop, sigma: 10.0), "gaussian_s10")
        check(gaussian(Self.crop, sigma: Sigma(x: 0.8, y: 2.0)), "gaussian_y2_x0.8")
    }

    @Test func boundaryModesMatchScipy() {
        check(gaussian(Self.crop, sigma: 1.5, boundary: .nearest), "gaussian_s1.5_nearest")
        check(gaussian(Self.crop, sigma: 1.5, boundary: .mirror), "gaussian_s1.5_mirror")
        check(gaussian(Self.crop, sigma: 1.5, boundary: .constant(10)), "gaussian_s1.5_constant10")
    }

    @Test func derivativesMatchScipy() {
        check(gaussianDerivative(Self.crop, sigma: Sigma(1.5), order: DerivativeOrder(x: 1)), "dx_s1.5")
        check(gaussianDerivative(Self.crop, sigma: Sigma(2.0), order: DerivativeOrder(y: 2)), "dyy_s2")
        check(gaussianDerivative(Self.crop, sigma: Sigma(1.2), order: DerivativeOrder(x: 1, y: 1)), "dxy_s1.2")
        let shared = gaussianDerivatives(Self.crop, sigma: Sigma(1.5), orders: [DerivativeOrder(), DerivativeOrder(x: 1)])
        check(shared[1], "dx_s1.5")
    }

    @Test func gradientLaplacianDogMatchScipy() {
        check(gaussianGradientMagnitude(Self.crop, sigma: Sigma(1.6)), "ggm_s1.6")
        check(laplacianOfGaussian(Self.crop, sigma: Sigma(1.6)), "log_s1.6")
        check(differenceOfGaussians(Self.crop, fine: Sigma(0.66 * 3.5), coarse: Sigma(3.5)), "dog_s3.5")
    }

    @Test func eigenvaluesMatchScikitImage() {
        let hessian = hessianEigenvalues(Self.crop, sigma: Sigma(1.6))
        #expect(hessian.count == 2)
        check(hessian[0], "hessian0_s1.6")
        check(hessian[1], "hessian1_s1.6")
        let tensor = structureTensorEigenvalues(Self.crop, inner: Sigma(1.0), outer: Sigma(0.5))
        check(tensor[0], "st0_s1", tolerance: 5e-5)
        check(tensor[1], "st1_s1", tolerance: 5e-5)
    }

    @Test func localStatisticsMatchScipy() {
        check(localMean(Self.crop, window: WindowSize(5)), "mean_5")
        check(localStandardDeviation(Self.crop, window: WindowSize(7)), "std_7", tolerance: 1e-4)
        check(localMinimum(Self.crop, window: WindowSize(5)), "min_5", tolerance: 0)
        check(localMaximum(Self.crop, window: WindowSize(7)), "max_7", tolerance: 0)
        check(localMaximum(Self.crop, window: WindowSize(3), boundary: .nearest), "max_3_nearest", tolerance: 0)
    }

    @Test func threeDimensionalFiltersMatchScipy() {
        check(gaussian(Self.volume, sigma: Sigma(x: 0.9, y: 1.0, z: 1.2)), "v_gaussian")
        let hessian = hessianEigenvalues(Self.volume, sigma: Sigma(1.1, z: 1.1))
        #expect(hessian.count == 3)
        for i in 0..<3 { check(hessian[i], "v_hessian\(i)", tolerance: 5e-5) }
        check(gaussianGradientMagnitude(Self.volume, sigma: Sigma(1.3, z: 1.3)), "v_ggm")
        check(laplacianOfGaussian(Self.volume, sigma: Sigma(1.3, z: 1.3)), "v_log")
        check(localMinimum(Self.volume, window: WindowSize(3, threeD: true)), "v_min_3", tolerance: 0)
        check(localMean(Self.volume, window: WindowSize(3, threeD: true)), "v_mean_3")
    }
}

/// Plain libm access for test formulas.
enum Foundationless {
    static func sin(_ x: Double) -> Double { _sin(x) }
    static func cos(_ x: Double) -> Double { _cos(x) }
}

#if canImport(Glibc)
import Glibc
private func _sin(_ x: Double) -> Double { Glibc.sin(x) }
private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
import Darwin
private func _sin(_ x: Double) -> Double { Darwin.sin(x) }
private func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
