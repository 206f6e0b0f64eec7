// importTorchRNN: torch.nn.LSTM / GRU state dicts into ParamStore parameters. The files are
// written with attnrt's safetensors writer under torch's names (F16 / BF16 / F64 / I64 files are
// built byte by byte); the end-to-end check against PyTorch itself is
// test/numerical/TorchInteropTest.cpp.
#include "TestUtil.h"

#include "attnrt/Error.h"
#include "attnrt/TorchImport.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <stdexcept>

using attnrt::DType;
using attnrt::Init;
using attnrt::ParamStore;
using attnrt::Tensor;
using attnrt::TorchRNNMapping;
using attnrt_test::expectUnchanged;
using attnrt_test::snapshot;
using attnrt_test::TempDir;

/// Expects `sub` in the string `text`.
#define EXPECT_CONTAINS(text, sub)                                                                 \
  do {                                                                                             \
    std::string text_ = (text), sub_ = (sub);                                                      \
    EXPECT_NE(text_.find(sub_), std::string::npos) << "expected '" << sub_ << "' in: " << text_;   \
  } while (0)

namespace {

/// A [rows, cols] (or [rows] if cols == 0) tensor with distinct values start, start + 1, ...
Tensor counting(std::vector<int64_t> shape, float start) {
  Tensor t(DType::F32, shape);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = start + static_cast<float>(i);
  return t;
}

/// The state dict of one layer and direction of a torch RNN with G gates, under torch's names.
void addLayer(std::map<std::string, Tensor> &sd, const std::string &prefix,
              const std::string &suffix, int64_t G, int64_t D, int64_t H, bool bias = true) {
  sd.emplace(prefix + "weight_ih_" + suffix, counting({G * H, D}, 100));
  sd.emplace(prefix + "weight_hh_" + suffix, counting({G * H, H}, 200));
  if (bias) {
    sd.emplace(prefix + "bias_ih_" + suffix, counting({G * H}, 300));
    sd.emplace(prefix + "bias_hh_" + suffix, counting({G * H}, 0.5f));
  }
}

/// attnc parameters of an LSTM layer (W [D, 4H], U [H, 4H], b [4H]) named W<tag>, U<tag>, b<tag>.
void declareLstm(ParamStore &p, const std::string &tag, int64_t D, int64_t H) {
  p.declare({"W" + tag, DType::F32, {D, 4 * H}, Init::constant(-1)});
  p.declare({"U" + tag, DType::F32, {H, 4 * H}, Init::constant(-1)});
  p.declare({"b" + tag, DType::F32, {4 * H}, Init::constant(-1)});
}

void declareGru(ParamStore &p, const std::string &tag, int64_t D, int64_t H) {
  p.declare({"W" + tag, DType::F32, {D, 3 * H}, Init::constant(-1)});
  p.declare({"U" + tag, DType::F32, {H, 3 * H}, Init::constant(-1)});
  p.declare({"bi" + tag, DType::F32, {3 * H}, Init::constant(-1)});
  p.declare({"bh" + tag, DType::F32, {3 * H}, Init::constant(-1)});
}

/// The attnrt::Error message of a failing import; the parameters must be unchanged after it.
std::string importError(ParamStore &p, const std::string &path,
                        const std::vector<TorchRNNMapping> &mappings,
                        const attnrt::TorchImportOptions &options = {}) {
  auto before = snapshot(p);
  std::string message = "(no attnrt::Error)";
  try {
    attnrt::importTorchRNN(p, path, mappings, options);
  } catch (const attnrt::Error &e) {
    message = e.what();
  }
  expectUnchanged(p, before);
  return message;
}

std::string mappingError(ParamStore &p, const std::string &path,
                         const std::vector<TorchRNNMapping> &mappings) {
  auto before = snapshot(p);
  std::string message = "(no std::invalid_argument)";
  try {
    attnrt::importTorchRNN(p, path, mappings);
  } catch (const std::invalid_argument &e) {
    message = e.what();
  }
  expectUnchanged(p, before);
  return message;
}

/// A safetensors file of one tensor with the given dtype name and raw little-endian bytes.
std::string oneTensorFile(const std::string &name, const std::string &dtype,
                          const std::vector<int64_t> &shape, const std::string &bytes) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    s += (i ? "," : "") + std::to_string(shape[i]);
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + s +
         "],\"data_offsets\":[OFF," + "END]}";
}

} // namespace

TEST(TorchImport, LstmWeightsAreTransposedAndBiasesSummed) {
  TempDir dir;
  const int64_t D = 3, H = 2;
  std::map<std::string, Tensor> sd;
  addLayer(sd, "encoder.rnn.", "l0", 4, D, H);
  sd.emplace("encoder.embedding.weight", counting({10, 3}, 0)); // the rest of the state dict
  sd.emplace("head.bias", Tensor::fromVector({2}, std::vector<int32_t>{1, 2}));
  attnrt::writeSafetensors(dir.file("m.safetensors"), sd);

  ParamStore p;
  declareLstm(p, "", D, H);
  p.declare({"other", DType::F32, {2}, Init::constant(7)});
  p.initialize(1);
  attnrt::importTorchRNN(p, dir.file("m.safetensors"),
                         {TorchRNNMapping::lstm("encoder.rnn.", "l0", "W", "U", "b")});

  const Tensor &wih = sd.at("encoder.rnn.weight_ih_l0"), &whh = sd.at("encoder.rnn.weight_hh_l0");
  for (int64_t g = 0; g < 4 * H; ++g) {
    for (int64_t d = 0; d < D; ++d)
      EXPECT_EQ(p.get("W").at({d, g}), wih.at({g, d})) << d << ", " << g;
    for (int64_t h = 0; h < H; ++h)
      EXPECT_EQ(p.get("U").at({h, g}), whh.at({g, h})) << h << ", " << g;
    EXPECT_EQ(p.get("b").at({g}), sd.at("encoder.rnn.bias_ih_l0").at({g}) +
                                      sd.at("encoder.rnn.bias_hh_l0").at({g}));
  }
  EXPECT_EQ(p.get("other").at({0}), 7.f); // unmapped parameters are left alone
}

TEST(TorchImport, BidirectionalGruKeepsBothBiases) {
  TempDir dir;
  const int64_t D = 4, H = 3;
  std::map<std::string, Tensor> sd;
  addLayer(sd, "", "l0", 3, D, H);
  addLayer(sd, "", "l0_reverse", 3, D, H);
  sd.at("weight_ih_l0_reverse").fill(9); // tell the directions apart
  addLayer(sd, "", "l1", 3, 2 * H, H);   // the second layer reads both directions
  addLayer(sd, "", "l1_reverse", 3, 2 * H, H);
  attnrt::writeSafetensors(dir.file("gru.safetensors"), sd);

  ParamStore p;
  declareGru(p, "f0", D, H);
  declareGru(p, "b0", D, H);
  declareGru(p, "f1", 2 * H, H);
  declareGru(p, "b1", 2 * H, H);
  std::vector<TorchRNNMapping> mappings;
  for (std::string layer : {"0", "1"}) {
    mappings.push_back(TorchRNNMapping::gru("", "l" + layer, "Wf" + layer, "Uf" + layer,
                                            "bif" + layer, "bhf" + layer));
    mappings.push_back(TorchRNNMapping::gru("", "l" + layer + "_reverse", "Wb" + layer,
                                            "Ub" + layer, "bib" + layer, "bhb" + layer));
  }
  attnrt::importTorchRNN(p, dir.file("gru.safetensors"), mappings);

  EXPECT_EQ(p.get("Wf0").at({1, 2}), sd.at("weight_ih_l0").at({2, 1}));
  EXPECT_EQ(p.get("Wb0").at({1, 2}), 9.f);
  EXPECT_EQ(p.get("Wf1").shape(), (std::vector<int64_t>{2 * H, 3 * H}));
  EXPECT_EQ(p.get("Wb1").at({5, 8}), sd.at("weight_ih_l1_reverse").at({8, 5}));
  EXPECT_EQ(p.get("Ub1").at({2, 7}), sd.at("weight_hh_l1_reverse").at({7, 2}));
  for (int64_t g = 0; g < 3 * H; ++g) {
    EXPECT_EQ(p.get("bif1").at({g}), sd.at("bias_ih_l1").at({g}));
    EXPECT_EQ(p.get("bhf1").at({g}), sd.at("bias_hh_l1").at({g}));
  }
}

TEST(TorchImport, MissingTensorsAreNamedWithWhatTheFileHas) {
  TempDir dir;
  std::map<std::string, Tensor> sd;
  addLayer(sd, "rnn.", "l0", 4, 3, 2);
  attnrt::writeSafetensors(dir.file("m.safetensors"), sd);
  ParamStore p;
  declareLstm(p, "", 3, 2);
  p.initialize(3);

  // Layer l1 does not exist: one problem for its tensors, and the list of what is there.
  std::string e = importError(p, dir.file("m.safetensors"),
                              {TorchRNNMapping::lstm("rnn.", "l1", "W", "U", "b")},
                              {/*allowUnmappedLayers=*/true});
  EXPECT_CONTAINS(e, "safetensors file '" + dir.file("m.safetensors") + "'");
  EXPECT_CONTAINS(e, "layer 'rnn.*_l1' is not in the file (no 'rnn.weight_ih_l1', "
                     "'rnn.weight_hh_l1', 'rnn.bias_ih_l1', 'rnn.bias_hh_l1', for 'W', 'U', 'b')");
  EXPECT_CONTAINS(e, "the file has under 'rnn.': 'rnn.bias_hh_l0', 'rnn.bias_ih_l0', "
                           "'rnn.weight_hh_l0', 'rnn.weight_ih_l0'");

  // One bias missing.
  sd.erase("rnn.bias_hh_l0");
  attnrt::writeSafetensors(dir.file("m.safetensors"), sd);
  e = importError(p, dir.file("m.safetensors"), {TorchRNNMapping::lstm("rnn.", "l0", "W", "U", "b")});
  EXPECT_CONTAINS(e, "no tensor 'rnn.bias_hh_l0' (for parameter 'b')");
}

TEST(TorchImport, WrongPrefixSuggestsTheOneInTheFile) {
  TempDir dir;
  std::map<std::string, Tensor> sd;
  addLayer(sd, "encoder.rnn.", "l0", 4, 3, 2);
  attnrt::writeSafetensors(dir.file("m.safetensors"), sd);
  ParamStore p;
  declareLstm(p, "", 3, 2);
  std::string e = importError(p, dir.file("m.safetensors"),
                              {TorchRNNMapping::lstm("rnn.", "l0", "W", "U", "b")});
  EXPECT_CONTAINS(e, "layer 'rnn.*_l0' is not in the file (no 'rnn.weight_ih_l0', ");
  EXPECT_CONTAINS(e, "the file has 'encoder.rnn.bias_hh_l0', ");
  EXPECT_CONTAINS(e, "(did you mean prefix 'encoder.rnn.'?)");
  // The prefix without its trailing dot.
  e = importError(p, dir.file("m.safetensors"),
                  {TorchRNNMapping::lstm("encoder.rnn", "l0", "W", "U", "b")});
  EXPECT_CONTAINS(e, "no 'encoder.rnnweight_ih_l0'");
  EXPECT_CONTAINS(e, "(did you mean prefix 'encoder.rnn.'?)");
}

TEST(TorchImport, ShapeMismatchNamesTensorExpectedAndActualAndLoadsNothing) {
  TempDir dir;
  std::map<std::string, Tensor> sd;
  addLayer(sd, "", "l0", 4, /*D=*/2, /*H=*/2);
  attnrt::writeSafetensors(dir.file("m.safetensors"), sd);
  ParamStore p;
  declareLstm(p, "", /*D=*/3, /*H=*/2);
  p.initialize(5);
  // U and b would fit, but nothing is loaded.
  std::string e =
      importError(p, dir.file("m.safetensors"), {TorchRNNMapping::lstm("", "l0", "W", "U", "b")});
  EXPECT_CONTAINS(e, "tensor 'weight_ih_l0' has shape [8, 2], expected [8, 3] (the "
                           "transpose of parameter 'W' [3, 8])");

  // The hidden size differs: every tensor is reported, in one message.
  sd.clear();
  addLayer(sd, "", "l0", 4, 3, /*H=*/3);
  attnrt::writeSafetensors(dir.file("m.safetensors"), sd);
  e = importError(p, dir.file("m.safetensors"), {TorchRNNMapping::lstm("", "l0", "W", "U", "b")});
  EXPECT_CONTAINS(e, "tensor 'weight_ih_l0' has shape [12, 3], expected [8, 3]");
  EXPECT_CONTAINS(e, "; tensor 'weight_hh_l0' has shape [12, 3], expected [8, 2] (the "
                           "transpose of parameter 'U' [2, 8])");
  EXPECT_CONTAINS(e, "; tensor 'bias_ih_l0' has shape [12], expected [8] (the shape of "
                           "parameter 'b')");
}

TEST(TorchImport, LaterMappingFailingLeavesEarlierOnesUnloaded) {
  TempDir dir;
  std::map<std::string, Tensor> sd;
  addLayer(sd, "", "l0", 3, 4, 2);
  addLayer(sd, "", "l1", 3, 2, 2);
  sd.at("weight_hh_l1") = counting({6, 3}, 0); // wrong
  attnrt::writeSafetensors(dir.file("m.safetensors"), sd);
  ParamStore p;
  declareGru(p, "0", 4, 2);
  declareGru(p, "1", 2, 2);
  p.initialize(1);
  std::string e = importError(p, dir.file("m.safetensors"),
                              {TorchRNNMapping::gru("", "l0", "W0", "U0", "bi0", "bh0"),
                               TorchRNNMapping::gru("", "l1", "W1", "U1", "bi1", "bh1")});
  EXPECT_CONTAINS(e, "tensor 'weight_hh_l1' has shape [6, 3], expected [6, 2]");
  EXPECT_EQ(p.get("W0").at({0, 0}), -1.f);
}

TEST(TorchImport, NonFloatDtypeIsRejectedByName) {
  TempDir dir;
  std::map<std::string, Tensor> sd;
  addLayer(sd, "", "l0", 4, 3, 2);
  sd.at("weight_hh_l0") = Tensor(DType::I32, {8, 2});
  attnrt::writeSafetensors(dir.file("m.safetensors"), sd);
  ParamStore p;
  declareLstm(p, "", 3, 2);
  std::string e =
      importError(p, dir.file("m.safetensors"), {TorchRNNMapping::lstm("", "l0", "W", "U", "b")});
  EXPECT_CONTAINS(e, "tensor 'weight_hh_l0': dtype I32 is not a floating-point type that "
                           "importTorchRNN reads (F32, F16, BF16, F64)");
}

TEST(TorchImport, HalfBfloatAndDoubleAreConvertedAndOtherTensorsIgnored) {
  // A GRU layer with D = 1, H = 1: weight_ih [3, 1] F16, weight_hh [3, 1] BF16, bias_ih [3] F64,
  // bias_hh [3] F32, and an I64 counter (as BatchNorm's num_batches_tracked) that is not read.
  auto le16 = [](uint16_t v) { return std::string{char(v & 0xff), char(v >> 8)}; };
  auto bytesOf = [](auto v) { return std::string(reinterpret_cast<const char *>(&v), sizeof v); };
  // F16: 1.0 = 0x3c00, -2.5 = 0xc100, 2^-24 (smallest subnormal) = 0x0001.
  std::string f16 = le16(0x3c00) + le16(0xc100) + le16(0x0001);
  // BF16: 1.0 = 0x3f80, -0.5 = 0xbf00, 3.0 = 0x4040.
  std::string bf16 = le16(0x3f80) + le16(0xbf00) + le16(0x4040);
  std::string f64 = bytesOf(0.25) + bytesOf(-1e-3) + bytesOf(1.0 / 3.0);
  std::string f32 = bytesOf(1.5f) + bytesOf(2.5f) + bytesOf(-3.5f);
  std::string i64 = bytesOf(int64_t{42});
  std::vector<std::tuple<std::string, std::string, std::vector<int64_t>, std::string>> tensors = {
      {"bn.num_batches_tracked", "I64", {}, i64},
      {"weight_ih_l0", "F16", {3, 1}, f16},
      {"weight_hh_l0", "BF16", {3, 1}, bf16},
      {"bias_ih_l0", "F64", {3}, f64},
      {"bias_hh_l0", "F32", {3}, f32}};
  std::string header = "{", data;
  for (const auto &[name, dtype, shape, bytes] : tensors) {
    std::string entry = oneTensorFile(name, dtype, shape, bytes);
    entry.replace(entry.find("OFF"), 3, std::to_string(data.size()));
    data += bytes;
    entry.replace(entry.find("END"), 3, std::to_string(data.size()));
    header += (header.size() > 1 ? "," : "") + entry;
  }
  header += "}";
  TempDir dir;
  attnrt_test::writeBytes(dir.file("mixed.safetensors"),
                          attnrt_test::safetensorsBytes(header, data));

  ParamStore p;
  declareGru(p, "", 1, 1);
  attnrt::importTorchRNN(p, dir.file("mixed.safetensors"),
                         {TorchRNNMapping::gru("", "l0", "W", "U", "bi", "bh")});
  EXPECT_EQ(p.get("W").at({0, 0}), 1.f);
  EXPECT_EQ(p.get("W").at({0, 1}), -2.5f);
  EXPECT_EQ(p.get("W").at({0, 2}), 5.9604644775390625e-8f); // 2^-24
  EXPECT_EQ(p.get("U").at({0, 0}), 1.f);
  EXPECT_EQ(p.get("U").at({0, 1}), -0.5f);
  EXPECT_EQ(p.get("U").at({0, 2}), 3.f);
  EXPECT_EQ(p.get("bi").at({0}), 0.25f);
  EXPECT_EQ(p.get("bi").at({1}), static_cast<float>(-1e-3));
  EXPECT_EQ(p.get("bi").at({2}), static_cast<float>(1.0 / 3.0));
  EXPECT_EQ(p.get("bh").at({2}), -3.5f);
}

TEST(TorchImport, MappingsThatDoNotFitTheModelAreInvalidArguments) {
  TempDir dir;
  std::map<std::string, Tensor> sd;
  addLayer(sd, "", "l0", 3, 3, 2);
  attnrt::writeSafetensors(dir.file("gru.safetensors"), sd);
  const std::string path = dir.file("gru.safetensors");
  ParamStore p;
  declareGru(p, "", 3, 2);
  declareGru(p, "2", 3, 2);

  EXPECT_CONTAINS(mappingError(p, path, {TorchRNNMapping::gru("", "l0", "Wx", "U", "bi", "bh")}),
              "importTorchRNN: GRU '*_l0': no parameter 'Wx' (did you mean 'W'?)");
  // An LSTM mapping onto GRU parameters: U is [H, 3H], not [H, 4H].
  TorchRNNMapping lstm = TorchRNNMapping::lstm("", "l0", "W", "U", "bi");
  EXPECT_CONTAINS(mappingError(p, path, {lstm}),
              "LSTM '*_l0': parameter 'U' has shape [2, 6], an LSTM needs U : [H, 4H] (that is "
                  "a GRU's shape)");
  // A bias mapped as a weight.
  EXPECT_CONTAINS(mappingError(p, path, {TorchRNNMapping::gru("", "l0", "bi", "U", "bi2", "bh")}),
              "parameter 'bi' has shape [6], a GRU with H = 2 (from 'U') needs W : "
                        "[D, 6]");
  // One parameter filled twice.
  EXPECT_CONTAINS(mappingError(p, path,
                           {TorchRNNMapping::gru("", "l0", "W", "U", "bi", "bh"),
                            TorchRNNMapping::gru("", "l0", "W2", "U", "bi2", "bh2")}),
              "parameter 'U' is filled by more than one mapping");
  TorchRNNMapping withB = TorchRNNMapping::gru("", "l0", "W", "U", "bi", "bh");
  withB.b = "bi2";
  EXPECT_CONTAINS(mappingError(p, path, {withB}), "a GRU has two biases 'bi' and 'bh'");
  EXPECT_CONTAINS(mappingError(p, path, {TorchRNNMapping::gru("", "", "W", "U", "bi", "bh")}),
              "the layer suffix is empty");
  EXPECT_CONTAINS(mappingError(p, path, {TorchRNNMapping::gru("", "l0", "W", "U", "", "bh")}),
              "no attnc parameter given for 'bi'");
  EXPECT_CONTAINS(mappingError(p, path, {}), "no mappings given");
  ParamStore ints;
  ints.declare({"W", DType::I32, {3, 6}, Init::zeros()});
  EXPECT_CONTAINS(mappingError(ints, path, {TorchRNNMapping::gru("", "l0", "W", "U", "bi", "bh")}),
              "parameter 'W' is I32, expected F32");
}

TEST(TorchImport, UnmappedLayerOfAMappedModuleIsAnErrorUnlessAllowed) {
  TempDir dir;
  std::map<std::string, Tensor> sd;
  addLayer(sd, "rnn.", "l0", 4, 3, 2);
  addLayer(sd, "rnn.", "l0_reverse", 4, 3, 2);
  addLayer(sd, "decoder.", "l0", 4, 3, 2); // another module: not this import's business
  attnrt::writeSafetensors(dir.file("m.safetensors"), sd);
  ParamStore p;
  declareLstm(p, "", 3, 2);
  std::vector<TorchRNNMapping> forwardOnly = {TorchRNNMapping::lstm("rnn.", "l0", "W", "U", "b")};
  std::string e = importError(p, dir.file("m.safetensors"), forwardOnly);
  EXPECT_CONTAINS(e, "layer 'rnn.*_l0_reverse' ('rnn.weight_ih_l0_reverse') is in the file "
                           "but no mapping reads it");
  EXPECT_EQ(e.find("decoder"), std::string::npos) << e;
  attnrt::importTorchRNN(p, dir.file("m.safetensors"), forwardOnly, {/*allowUnmappedLayers=*/true});
  EXPECT_EQ(p.get("W").at({0, 1}), sd.at("rnn.weight_ih_l0").at({1, 0}));
}

TEST(TorchImport, BiasFalseModules) {
  TempDir dir;
  std::map<std::string, Tensor> sd;
  addLayer(sd, "", "l0", 4, 3, 2, /*bias=*/false);
  attnrt::writeSafetensors(dir.file("nobias.safetensors"), sd);
  ParamStore p;
  declareLstm(p, "", 3, 2);
  p.initialize(1);

  TorchRNNMapping m = TorchRNNMapping::lstm("", "l0", "W", "U", "b");
  std::string e = importError(p, dir.file("nobias.safetensors"), {m});
  EXPECT_CONTAINS(e, "no tensors 'bias_ih_l0' and 'bias_hh_l0' (for 'b'; if the module was "
                           "built with bias=False, set bias = false in the mapping)");
  m.bias = false;
  attnrt::importTorchRNN(p, dir.file("nobias.safetensors"), {m});
  for (int64_t g = 0; g < 8; ++g)
    EXPECT_EQ(p.get("b").at({g}), 0.f);
  EXPECT_EQ(p.get("U").at({1, 3}), sd.at("weight_hh_l0").at({3, 1}));

  // bias = false although the file has biases: they would be dropped silently.
  sd.clear();
  addLayer(sd, "", "l0", 4, 3, 2);
  attnrt::writeSafetensors(dir.file("bias.safetensors"), sd);
  e = importError(p, dir.file("bias.safetensors"), {m});
  EXPECT_CONTAINS(e, "tensor 'bias_ih_l0' exists, but the mapping of LSTM '*_l0' says "
                           "bias = false");
}

TEST(TorchImport, ProjectedLstmIsRejected) {
  TempDir dir;
  std::map<std::string, Tensor> sd;
  addLayer(sd, "", "l0", 4, 3, 2);
  sd.emplace("weight_hr_l0", counting({1, 2}, 0));
  attnrt::writeSafetensors(dir.file("m.safetensors"), sd);
  ParamStore p;
  declareLstm(p, "", 3, 2);
  EXPECT_CONTAINS(
      importError(p, dir.file("m.safetensors"), {TorchRNNMapping::lstm("", "l0", "W", "U", "b")}),
      "tensor 'weight_hr_l0': LSTMs with projections (proj_size > 0) do not fit");
}

TEST(TorchImport, UnreadableFiles) {
  TempDir dir;
  ParamStore p;
  declareLstm(p, "", 3, 2);
  std::vector<TorchRNNMapping> m = {TorchRNNMapping::lstm("", "l0", "W", "U", "b")};
  EXPECT_CONTAINS(importError(p, dir.file("absent.safetensors"), m),
              "safetensors file '" + dir.file("absent.safetensors") +
                        "': cannot open");
  attnrt_test::writeBytes(dir.file("short"), "abc");
  EXPECT_CONTAINS(importError(p, dir.file("short"), m), "shorter than the 8-byte header");
  attnrt_test::writeBytes(dir.file("json"), attnrt_test::safetensorsBytes("{\"a\":", ""));
  EXPECT_CONTAINS(importError(p, dir.file("json"), m), "header is not valid JSON");
  attnrt_test::writeBytes(dir.file("len"), attnrt_test::u64le(1000) + "{}");
  EXPECT_CONTAINS(importError(p, dir.file("len"), m), "header length 1000 exceeds");
  // A tensor whose offsets reach past the data.
  attnrt_test::writeBytes(
      dir.file("offsets"),
      attnrt_test::safetensorsBytes("{\"weight_ih_l0\":{\"dtype\":\"F32\",\"shape\":[8,3],"
                                    "\"data_offsets\":[0,96]}}",
                                    std::string(40, '\0')));
  EXPECT_CONTAINS(importError(p, dir.file("offsets"), m),
              "tensor 'weight_ih_l0': data_offsets [0, 96] do not hold shape [8, 3] of "
                        "F32 within the 40 data bytes");
}
