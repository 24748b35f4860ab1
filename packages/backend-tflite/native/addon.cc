// respai's TFLite addon: one interpreter per object, over the TensorFlow Lite C API (the library
// node-tflite ships). Synchronous on purpose: every object lives in one worker thread, which is
// where the backend runs it, so nothing here ever blocks the server's event loop.
#include <napi.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tensorflow/lite/c/c_api.h"

namespace {

// TFLite reports why a call failed through the error reporter, not the status: collect the text.
struct Reporter {
  std::string text;
  static void Report(void* self, const char* format, va_list args) {
    auto* r = static_cast<Reporter*>(self);
    char buf[1024];
    vsnprintf(buf, sizeof buf, format, args);
    std::string line(buf);
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    if (line.empty() || r->text.size() > 4000) return;
    if (!r->text.empty()) r->text += "; ";
    r->text += line;
  }
  std::string Take(const char* fallback) {
    std::string t = text.empty() ? std::string(fallback) : text;
    text.clear();
    return t;
  }
};

Napi::Object Describe(Napi::Env env, const TfLiteTensor* t) {
  auto o = Napi::Object::New(env);
  const char* name = TfLiteTensorName(t);
  o.Set("name", Napi::String::New(env, name ? name : ""));
  o.Set("type", Napi::Number::New(env, TfLiteTensorType(t)));
  int n = TfLiteTensorNumDims(t);
  auto dims = Napi::Array::New(env, n > 0 ? n : 0);
  for (int i = 0; i < n; i++) dims.Set(i, Napi::Number::New(env, TfLiteTensorDim(t, i)));
  o.Set("dims", dims);
  auto q = TfLiteTensorQuantizationParams(t);
  o.Set("scale", Napi::Number::New(env, q.scale));
  o.Set("zeroPoint", Napi::Number::New(env, q.zero_point));
  return o;
}

class Interpreter : public Napi::ObjectWrap<Interpreter> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Interpreter",
                       {InstanceMethod("describe", &Interpreter::DescribeAll), InstanceMethod("run", &Interpreter::Run),
                        InstanceMethod("close", &Interpreter::Close)});
  }

  // new Interpreter(bytes: Uint8Array, numThreads: number)
  explicit Interpreter(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Interpreter>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber()) {
      throw Napi::TypeError::New(env, "Interpreter(bytes: Uint8Array, numThreads: number)");
    }
    auto bytes = info[0].As<Napi::Uint8Array>();
    // The model reads its buffer for as long as it lives: keep a copy of our own.
    data_.assign(bytes.Data(), bytes.Data() + bytes.ByteLength());
    model_ = TfLiteModelCreate(data_.data(), data_.size());
    if (model_ == nullptr) throw Napi::Error::New(env, "the bytes are not a valid TFLite flatbuffer");
    auto* options = TfLiteInterpreterOptionsCreate();
    int threads = info[1].As<Napi::Number>().Int32Value();
    if (threads > 0) TfLiteInterpreterOptionsSetNumThreads(options, threads);
    TfLiteInterpreterOptionsSetErrorReporter(options, &Reporter::Report, &reporter_);
    interpreter_ = TfLiteInterpreterCreate(model_, options);
    TfLiteInterpreterOptionsDelete(options);
    if (interpreter_ == nullptr) {
      Release();
      throw Napi::Error::New(env, reporter_.Take("TFLite could not build an interpreter for the model"));
    }
    if (TfLiteInterpreterAllocateTensors(interpreter_) != kTfLiteOk) {
      Release();
      throw Napi::Error::New(env, reporter_.Take("TFLite could not allocate the model's tensors"));
    }
  }

  ~Interpreter() override { Release(); }

 private:
  void Release() {
    if (interpreter_ != nullptr) TfLiteInterpreterDelete(interpreter_);
    if (model_ != nullptr) TfLiteModelDelete(model_);
    interpreter_ = nullptr;
    model_ = nullptr;
  }

  void Open(Napi::Env env) {
    if (interpreter_ == nullptr) throw Napi::Error::New(env, "the TFLite interpreter was closed");
  }

  // { inputs: [{name, type, dims, scale, zeroPoint}], outputs: [...] } as the model stands now.
  Napi::Value DescribeAll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Open(env);
    auto o = Napi::Object::New(env);
    int ni = TfLiteInterpreterGetInputTensorCount(interpreter_);
    int no = TfLiteInterpreterGetOutputTensorCount(interpreter_);
    auto in = Napi::Array::New(env, ni);
    for (int i = 0; i < ni; i++) in.Set(i, Describe(env, TfLiteInterpreterGetInputTensor(interpreter_, i)));
    auto out = Napi::Array::New(env, no);
    for (int i = 0; i < no; i++) out.Set(i, Describe(env, TfLiteInterpreterGetOutputTensor(interpreter_, i)));
    o.Set("inputs", in);
    o.Set("outputs", out);
    return o;
  }

  // run([{dims: number[], data: Uint8Array}, ...]) -> [{type, dims, data: ArrayBuffer}, ...]
  // An input whose dims differ from the tensor's current ones resizes it (then tensors are
  // reallocated); the caller decides the dims, so a same-size tensor of another shape can keep
  // the model's.
  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Open(env);
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "run(inputs: {dims, data}[])");
    auto inputs = info[0].As<Napi::Array>();
    int ni = TfLiteInterpreterGetInputTensorCount(interpreter_);
    if (static_cast<int>(inputs.Length()) != ni) {
      throw Napi::Error::New(env, "expected " + std::to_string(ni) + " inputs, got " + std::to_string(inputs.Length()));
    }
    for (int i = 0; i < ni; i++) {
      auto dims = inputs.Get(i).As<Napi::Object>().Get("dims").As<Napi::Array>();
      std::vector<int> want(dims.Length());
      for (uint32_t d = 0; d < dims.Length(); d++) want[d] = dims.Get(d).As<Napi::Number>().Int32Value();
      const TfLiteTensor* t = TfLiteInterpreterGetInputTensor(interpreter_, i);
      bool same = TfLiteTensorNumDims(t) == static_cast<int>(want.size());
      for (size_t d = 0; same && d < want.size(); d++) same = TfLiteTensorDim(t, static_cast<int>(d)) == want[d];
      if (!same) {
        if (TfLiteInterpreterResizeInputTensor(interpreter_, i, want.data(), static_cast<int>(want.size())) != kTfLiteOk) {
          allocated_ = false;
          throw Napi::Error::New(env, reporter_.Take("TFLite could not resize the input"));
        }
        allocated_ = false;
      }
    }
    if (!allocated_) {
      if (TfLiteInterpreterAllocateTensors(interpreter_) != kTfLiteOk) {
        throw Napi::Error::New(env, reporter_.Take("TFLite could not allocate tensors for these input shapes"));
      }
      allocated_ = true;
    }
    for (int i = 0; i < ni; i++) {
      auto data = inputs.Get(i).As<Napi::Object>().Get("data").As<Napi::Uint8Array>();
      TfLiteTensor* t = TfLiteInterpreterGetInputTensor(interpreter_, i);
      size_t size = TfLiteTensorByteSize(t);
      if (data.ByteLength() != size) {
        throw Napi::Error::New(env, "input " + std::to_string(i) + " has " + std::to_string(data.ByteLength()) +
                                        " bytes where the model's tensor holds " + std::to_string(size));
      }
      void* dst = TfLiteTensorData(t);
      if (size > 0 && dst == nullptr) throw Napi::Error::New(env, "TFLite input " + std::to_string(i) + " has no buffer");
      if (size > 0) std::memcpy(dst, data.Data(), size);
    }
    if (TfLiteInterpreterInvoke(interpreter_) != kTfLiteOk) {
      throw Napi::Error::New(env, reporter_.Take("TFLite failed to run the model"));
    }
    int no = TfLiteInterpreterGetOutputTensorCount(interpreter_);
    auto out = Napi::Array::New(env, no);
    for (int i = 0; i < no; i++) {
      const TfLiteTensor* t = TfLiteInterpreterGetOutputTensor(interpreter_, i);
      auto o = Describe(env, t);
      size_t size = TfLiteTensorByteSize(t);
      auto buf = Napi::ArrayBuffer::New(env, size);
      const void* src = TfLiteTensorData(t);
      if (size > 0 && src != nullptr) std::memcpy(buf.Data(), src, size);
      o.Set("data", buf);
      out.Set(i, o);
    }
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  std::vector<uint8_t> data_;
  TfLiteModel* model_ = nullptr;
  TfLiteInterpreter* interpreter_ = nullptr;
  Reporter reporter_;
  bool allocated_ = true;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Interpreter", Interpreter::Define(env));
  exports.Set("version", Napi::String::New(env, TfLiteVersion()));
  return exports;
}

}  // namespace

NODE_API_MODULE(respai_tflite, Init)
