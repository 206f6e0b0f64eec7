// attnrt::Tensor: an owning, dense, row-major tensor that Halide kernels can read and write.
//
//   attnrt::Tensor x(attnrt::DType::F32, {8, 512, 64});   // zero-filled, [B, S, E]
//   x.at({0, 3, 7}) = 1.5f;
//   kernel(x.buffer(), y.buffer());                        // generated Halide AOT entry point
//
// Shapes are listed outermost first, as in numpy and PyTorch. buffer() describes the same memory
// with Halide's dimension order (dim[0] is the innermost, stride 1), so a [B, S, E] tensor is a
// Halide buffer with extents (E, S, B).
#ifndef ATTNRT_TENSOR_H
#define ATTNRT_TENSOR_H

#include "HalideRuntime.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace attnrt {

enum class DType { F32, I32 };

/// "F32", "I32": the names safetensors uses.
const char *dtypeName(DType dtype);
/// Bytes per element.
std::size_t dtypeSize(DType dtype);

/// The DType of a C++ element type: DTypeOf<float>::value == DType::F32.
template <class T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::F32; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::I32; };

/// "[8, 512, 64]"; "[]" for a scalar.
std::string shapeString(const std::vector<int64_t> &shape);
/// Product of the extents (1 for a scalar). Throws std::invalid_argument for a negative extent or
/// a product that overflows int64_t.
int64_t shapeNumel(const std::vector<int64_t> &shape);

class Tensor {
public:
  /// An empty F32 tensor of shape [0].
  Tensor();
  /// A zero-filled tensor. Throws std::invalid_argument for negative extents.
  Tensor(DType dtype, std::vector<int64_t> shape);

  /// A tensor holding `values` (row-major). T is float (F32) or int32_t (I32); the number of
  /// values must equal the number of elements of `shape`.
  ///   auto w = Tensor::fromVector({2, 2}, {1.f, 2.f, 3.f, 4.f});
  template <class T>
  static Tensor fromVector(std::vector<int64_t> shape, const std::vector<T> &values) {
    return fromValues(DTypeOf<T>::value, std::move(shape), values.data(), values.size());
  }
  template <class T>
  static Tensor fromVector(std::vector<int64_t> shape, std::initializer_list<T> values) {
    static_assert(std::is_same<T, float>::value || std::is_same<T, int32_t>::value,
                  "fromVector: write float (1.f) or int32_t values");
    return fromValues(DTypeOf<T>::value, std::move(shape), values.begin(), values.size());
  }

  /// Copies are deep (a copy never shares memory or a device allocation with the original).
  Tensor(const Tensor &other);
  Tensor &operator=(const Tensor &other);
  /// A moved-from tensor is empty (F32, shape [0]).
  Tensor(Tensor &&other) noexcept;
  Tensor &operator=(Tensor &&other) noexcept;
  ~Tensor();

  DType dtype() const { return dtype_; }
  const std::vector<int64_t> &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  /// Extent of dimension i (row-major numbering; negative i counts from the end, -1 = last).
  int64_t dim(int64_t i) const;
  int64_t numel() const { return numel_; }
  std::size_t byteSize() const { return static_cast<std::size_t>(numel_) * dtypeSize(dtype_); }
  std::string shapeString() const { return attnrt::shapeString(shape_); }

  /// Typed pointer to the first element. Throws std::invalid_argument if T does not match dtype().
  template <class T> T *data() {
    checkDType(DTypeOf<T>::value, "data");
    return static_cast<T *>(hostForWrite());
  }
  template <class T> const T *data() const {
    checkDType(DTypeOf<T>::value, "data");
    return static_cast<const T *>(hostForRead());
  }
  /// Untyped host pointer (64-byte aligned, never null).
  void *rawData() { return hostForWrite(); }
  const void *rawData() const { return hostForRead(); }

  /// Bounds-checked element access: t.at({b, s, e}), or t.at<int32_t>({i}) for I32 tensors.
  /// Wrong number of indices: std::invalid_argument; index out of range: std::out_of_range.
  template <class T = float> T &at(std::initializer_list<int64_t> index) {
    int64_t offset = offsetOf(index);
    return data<T>()[offset];
  }
  template <class T = float> const T &at(std::initializer_list<int64_t> index) const {
    int64_t offset = offsetOf(index);
    return data<T>()[offset];
  }

  /// All elements as a vector (T must match dtype()).
  template <class T> std::vector<T> toVector() const {
    const T *p = data<T>();
    return std::vector<T>(p, p + numel_);
  }

  /// Sets every element to `value`. For I32 the value must be an integer in int32 range.
  void fill(double value);
  /// Changes the shape in place; the number of elements must stay the same.
  void reshape(std::vector<int64_t> shape);

  /// A halide_buffer_t over this tensor's memory for calling Halide AOT kernels. Dimensions are
  /// reversed (dim[0] is the innermost dimension, stride 1; min 0). The pointer stays valid while
  /// the tensor lives and is not assigned to, moved from or reshaped. It is const-callable because
  /// Halide takes inputs as non-const buffers as well; do not pass a const tensor as an output.
  /// A kernel running on a GPU may attach a device allocation: the tensor frees it on destruction,
  /// copies it back before host access, and marks the host dirty on non-const host access.
  /// Throws std::invalid_argument if an extent or stride does not fit Halide's int32.
  halide_buffer_t *buffer() const;

private:
  struct AlignedFree {
    void operator()(uint8_t *p) const;
  };

  static Tensor fromValues(DType dtype, std::vector<int64_t> shape, const void *values,
                           std::size_t count);
  void allocate();
  void bindBuffer();
  void releaseDevice() noexcept;
  void checkDType(DType wanted, const char *what) const;
  int64_t offsetOf(std::initializer_list<int64_t> index) const;
  void *hostForWrite();
  const void *hostForRead() const;

  DType dtype_ = DType::F32;
  std::vector<int64_t> shape_;
  int64_t numel_ = 0;
  std::unique_ptr<uint8_t, AlignedFree> storage_;
  std::vector<halide_dimension_t> halideDims_; // innermost first; buffer_.dim points here
  bool halideRepresentable_ = true;
  mutable halide_buffer_t buffer_{};
};

/// Largest |a[i] - b[i]| (as double); NaN if either tensor holds a NaN. Throws
/// std::invalid_argument if dtypes or shapes differ.
double maxAbsDiff(const Tensor &a, const Tensor &b);

/// numpy.allclose: |a - b| <= atol + rtol * |b| for every element, NaN never close.
bool allClose(const Tensor &a, const Tensor &b, double rtol = 1e-5, double atol = 1e-8);

} // namespace attnrt

#endif // ATTNRT_TENSOR_H
