#include "attnrt/Error.h"
#include "attnrt/Tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

using attnrt::DType;
using attnrt::Tensor;

namespace {

/// The exception message of `f`, which must throw E.
template <class E, class F> std::string messageOf(F f) {
  try {
    f();
  } catch (const E &e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

void expectLayout234(const Tensor &t) {
  const halide_buffer_t *b = t.buffer();
  ASSERT_EQ(b->dimensions, 3);
  // Halide order: innermost first.
  EXPECT_EQ(b->dim[0].min, 0);
  EXPECT_EQ(b->dim[0].extent, 4);
  EXPECT_EQ(b->dim[0].stride, 1);
  EXPECT_EQ(b->dim[1].min, 0);
  EXPECT_EQ(b->dim[1].extent, 3);
  EXPECT_EQ(b->dim[1].stride, 4);
  EXPECT_EQ(b->dim[2].min, 0);
  EXPECT_EQ(b->dim[2].extent, 2);
  EXPECT_EQ(b->dim[2].stride, 12);
  EXPECT_EQ(b->host, static_cast<const uint8_t *>(t.rawData()));
}

} // namespace

TEST(Tensor, ConstructedZeroFilled) {
  Tensor t(DType::F32, {2, 3, 4});
  EXPECT_EQ(t.dtype(), DType::F32);
  EXPECT_EQ(t.rank(), 3);
  EXPECT_EQ(t.dim(0), 2);
  EXPECT_EQ(t.dim(2), 4);
  EXPECT_EQ(t.dim(-1), 4);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.byteSize(), 96u);
  EXPECT_EQ(t.shapeString(), "[2, 3, 4]");
  for (float v : t.toVector<float>())
    EXPECT_EQ(v, 0.0f);
  EXPECT_THROW(t.dim(3), std::out_of_range);
  EXPECT_THROW(t.dim(-4), std::out_of_range);
}

TEST(Tensor, HalideBufferLayout) {
  Tensor t(DType::F32, {2, 3, 4});
  expectLayout234(t);
  const halide_buffer_t *b = t.buffer();
  EXPECT_EQ(b->type.code, halide_type_float);
  EXPECT_EQ(b->type.bits, 32);
  EXPECT_EQ(b->type.lanes, 1);
  EXPECT_EQ(b->device, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b->host) % 64, 0u);
  // Element [i, j, k] sits at i*12 + j*4 + k in both views.
  t.at({1, 2, 3}) = 7.0f;
  EXPECT_EQ(reinterpret_cast<const float *>(b->host)[1 * 12 + 2 * 4 + 3], 7.0f);
  EXPECT_EQ(t.data<float>()[23], 7.0f);

  Tensor i(DType::I32, {5});
  EXPECT_EQ(i.buffer()->type.code, halide_type_int);
  EXPECT_EQ(i.buffer()->type.bits, 32);
}

TEST(Tensor, ScalarAndEmpty) {
  Tensor s(DType::F32, {});
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.shapeString(), "[]");
  EXPECT_EQ(s.buffer()->dimensions, 0);
  s.at({}) = 2.5f;
  EXPECT_EQ(s.data<float>()[0], 2.5f);

  // An empty tensor still has a host pointer: Halide reads a null host as a bounds query.
  Tensor e(DType::F32, {0, 5});
  EXPECT_EQ(e.numel(), 0);
  EXPECT_NE(e.buffer()->host, nullptr);
  Tensor d;
  EXPECT_EQ(d.shape(), std::vector<int64_t>{0});
  EXPECT_NE(d.buffer()->host, nullptr);
}

TEST(Tensor, RejectsNegativeExtent) {
  std::string m = messageOf<std::invalid_argument>([] { Tensor(DType::F32, {2, -1}); });
  EXPECT_NE(m.find("[2, -1]"), std::string::npos) << m;
}

TEST(Tensor, FromVector) {
  Tensor f = Tensor::fromVector({2, 2}, {1.f, 2.f, 3.f, 4.f});
  EXPECT_EQ(f.dtype(), DType::F32);
  EXPECT_EQ(f.at({1, 0}), 3.f);
  Tensor i = Tensor::fromVector({3}, std::vector<int32_t>{7, -1, 9});
  EXPECT_EQ(i.dtype(), DType::I32);
  EXPECT_EQ(i.at<int32_t>({1}), -1);
  std::string m = messageOf<std::invalid_argument>(
      [] { Tensor::fromVector({2, 2}, {1.f, 2.f, 3.f}); });
  EXPECT_NE(m.find("[2, 2] has 4 elements, got 3 values"), std::string::npos) << m;
}

TEST(Tensor, TypedAccessChecksDType) {
  Tensor t(DType::F32, {2});
  std::string m = messageOf<std::invalid_argument>([&] { t.data<int32_t>(); });
  EXPECT_NE(m.find("dtype F32, accessed as I32"), std::string::npos) << m;
  EXPECT_THROW(t.at<int32_t>({0}), std::invalid_argument);
}

TEST(Tensor, AtChecksBoundsAndRank) {
  Tensor t(DType::F32, {2, 3});
  std::string m = messageOf<std::out_of_range>([&] { t.at({1, 3}); });
  EXPECT_NE(m.find("index [1, 3] is out of bounds for shape [2, 3]"), std::string::npos) << m;
  EXPECT_THROW(t.at({-1, 0}), std::out_of_range);
  m = messageOf<std::invalid_argument>([&] { t.at({1}); });
  EXPECT_NE(m.find("rank 2"), std::string::npos) << m;
  const Tensor &c = t;
  EXPECT_EQ(c.at({1, 2}), 0.f);
}

TEST(Tensor, CopyIsDeepAndKeepsItsOwnBuffer) {
  Tensor a(DType::F32, {2, 3, 4});
  a.fill(1.5f);
  Tensor b = a;
  expectLayout234(b);
  EXPECT_NE(b.buffer()->host, a.buffer()->host);
  EXPECT_NE(b.buffer()->dim, a.buffer()->dim);
  b.at({0, 0, 0}) = 9.f;
  EXPECT_EQ(a.at({0, 0, 0}), 1.5f);
  EXPECT_EQ(b.at({1, 2, 3}), 1.5f);

  Tensor c(DType::I32, {7});
  c = a;
  expectLayout234(c);
  EXPECT_EQ(attnrt::maxAbsDiff(a, c), 0.0);
  c = c; // self-assignment keeps the tensor intact
  expectLayout234(c);
  EXPECT_EQ(c.at({1, 1, 1}), 1.5f);
}

TEST(Tensor, MoveKeepsBufferValid) {
  Tensor a(DType::F32, {2, 3, 4});
  a.at({1, 2, 3}) = 4.f;
  const uint8_t *host = a.buffer()->host;
  Tensor b = std::move(a);
  expectLayout234(b);
  EXPECT_EQ(b.buffer()->host, host);
  EXPECT_EQ(b.at({1, 2, 3}), 4.f);
  // The moved-from tensor is empty but usable.
  EXPECT_EQ(a.numel(), 0);
  EXPECT_EQ(a.buffer()->dimensions, 1);
  EXPECT_EQ(a.buffer()->dim[0].extent, 0);

  Tensor c(DType::I32, {1});
  c = std::move(b);
  expectLayout234(c);
  EXPECT_EQ(c.at({1, 2, 3}), 4.f);

  // Reallocation of a vector moves tensors: each buffer must still describe its own tensor.
  std::vector<Tensor> v;
  for (int i = 1; i <= 20; ++i)
    v.emplace_back(DType::F32, std::vector<int64_t>{i, 2});
  for (int i = 1; i <= 20; ++i) {
    const halide_buffer_t *buf = v[i - 1].buffer();
    EXPECT_EQ(buf->dim[1].extent, i);
    EXPECT_EQ(buf->dim[1].stride, 2);
    EXPECT_EQ(buf->host, static_cast<const uint8_t *>(v[i - 1].rawData()));
  }
}

TEST(Tensor, FillAndReshape) {
  Tensor t(DType::I32, {2, 3});
  t.fill(-4);
  EXPECT_EQ(t.at<int32_t>({1, 2}), -4);
  std::string m = messageOf<std::invalid_argument>([&] { t.fill(2.5); });
  EXPECT_NE(m.find("I32"), std::string::npos) << m;
  t.reshape({3, 2});
  EXPECT_EQ(t.shapeString(), "[3, 2]");
  EXPECT_EQ(t.buffer()->dim[0].extent, 2);
  EXPECT_EQ(t.buffer()->dim[1].extent, 3);
  m = messageOf<std::invalid_argument>([&] { t.reshape({4, 2}); });
  EXPECT_NE(m.find("6 elements, new shape [4, 2] has 8"), std::string::npos) << m;
}

TEST(Tensor, MaxAbsDiffAndAllClose) {
  Tensor a = Tensor::fromVector({3}, {1.f, 2.f, 3.f});
  Tensor b = Tensor::fromVector({3}, {1.f, 2.5f, 2.f});
  EXPECT_DOUBLE_EQ(attnrt::maxAbsDiff(a, b), 1.0);
  EXPECT_FALSE(attnrt::allClose(a, b));
  EXPECT_TRUE(attnrt::allClose(a, a));
  EXPECT_TRUE(attnrt::allClose(a, b, 0.0, 1.0));

  Tensor inf = Tensor::fromVector({1}, {std::numeric_limits<float>::infinity()});
  EXPECT_EQ(attnrt::maxAbsDiff(inf, inf), 0.0);
  Tensor nan = Tensor::fromVector({1}, {std::nanf("")});
  EXPECT_TRUE(std::isnan(attnrt::maxAbsDiff(nan, nan)));
  EXPECT_FALSE(attnrt::allClose(nan, nan));

  std::string m = messageOf<std::invalid_argument>(
      [&] { attnrt::maxAbsDiff(a, Tensor(DType::F32, {2})); });
  EXPECT_NE(m.find("F32[3] vs F32[2]"), std::string::npos) << m;
  EXPECT_THROW(attnrt::maxAbsDiff(a, Tensor(DType::I32, {3})), std::invalid_argument);
}

// A stand-in for a GPU device interface: the tensor must copy device data back before host
// access, mark the host dirty after non-const access, and free the device allocation.
namespace {
int copiesToHost = 0;
int deviceFrees = 0;
int fakeCopyToHost(void *, halide_buffer_t *buf) {
  ++copiesToHost;
  reinterpret_cast<float *>(buf->host)[0] = 42.f; // "the kernel's result"
  return 0;
}
int fakeDeviceFree(void *, halide_buffer_t *buf) {
  ++deviceFrees;
  buf->device = 0;
  return 0;
}
} // namespace

TEST(Tensor, DeviceAllocationIsSyncedAndFreed) {
  halide_device_interface_t fake{};
  fake.copy_to_host = fakeCopyToHost;
  fake.device_free = fakeDeviceFree;
  copiesToHost = deviceFrees = 0;
  {
    Tensor t(DType::F32, {4});
    halide_buffer_t *b = t.buffer();
    b->device = 1234;
    b->device_interface = &fake;
    b->set_device_dirty(true);

    const Tensor &c = t;
    EXPECT_EQ(c.data<float>()[0], 42.f);
    EXPECT_EQ(copiesToHost, 1);
    EXPECT_FALSE(b->device_dirty());
    EXPECT_FALSE(b->host_dirty());

    t.at({1}) = 1.f; // host write while a device copy exists
    EXPECT_TRUE(b->host_dirty());
    EXPECT_EQ(copiesToHost, 1);

    Tensor copy = t; // copies carry no device allocation
    EXPECT_EQ(copy.buffer()->device, 0u);
    EXPECT_EQ(deviceFrees, 0);
  }
  EXPECT_EQ(deviceFrees, 1);
}
