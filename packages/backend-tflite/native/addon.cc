// respai's TFLite addon: interpreters over the TensorFlow Lite C API, one per object. The C library
// is not linked but opened at run time (`open(path)`), so that two versions live in one process:
// TFLite 2.2 (node-tflite) and 2.9 with XNNPACK (tfjs-tflite-node) ship files of the same soname,
// and a second link-time dependency would silently resolve to whichever was loaded first.
// Synchronous on purpose: every interpreter lives in one worker thread, which is where the backend
// runs it, so nothing here ever blocks the server's event loop.
#include <dlfcn.h>
#include <napi.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tensorflow/lite/c/c_api.h"

namespace {

// The XNNPACK delegate's options as TFLite 2.9 lays them out (later versions append fields; the
// backend passes flags only to a library whose version it knows).
struct XnnpackOptions29 {
  int32_t num_threads;
  uint32_t flags;
};

// The C API, resolved from one library file.
struct Api {
  const char* (*Version)();
  TfLiteModel* (*ModelCreate)(const void*, size_t);
  void (*ModelDelete)(TfLiteModel*);
  TfLiteInterpreterOptions* (*OptionsCreate)();
  void (*OptionsDelete)(TfLiteInterpreterOptions*);
  void (*OptionsSetNumThreads)(TfLiteInterpreterOptions*, int32_t);
  void (*OptionsSetErrorReporter)(TfLiteInterpreterOptions*, void (*)(void*, const char*, va_list), void*);
  void (*OptionsAddDelegate)(TfLiteInterpreterOptions*, TfLiteDelegate*);
  TfLiteInterpreter* (*InterpreterCreate)(const TfLiteModel*, const TfLiteInterpreterOptions*);
  void (*InterpreterDelete)(TfLiteInterpreter*);
  int32_t (*InputCount)(const TfLiteInterpreter*);
  TfLiteTensor* (*InputTensor)(const TfLiteInterpreter*, int32_t);
  TfLiteStatus (*ResizeInput)(TfLiteInterpreter*, int32_t, const int*, int32_t);
  TfLiteStatus (*AllocateTensors)(TfLiteInterpreter*);
  TfLiteStatus (*Invoke)(TfLiteInterpreter*);
  int32_t (*OutputCount)(const TfLiteInterpreter*);
  const TfLiteTensor* (*OutputTensor)(const TfLiteInterpreter*, int32_t);
  TfLiteType (*TensorType)(const TfLiteTensor*);
  int32_t (*NumDims)(const TfLiteTensor*);
  int32_t (*Dim)(const TfLiteTensor*, int32_t);
  size_t (*ByteSize)(const TfLiteTensor*);
  void* (*Data)(const TfLiteTensor*);
  const char* (*Name)(const TfLiteTensor*);
  TfLiteQuantizationParams (*Quantization)(const TfLiteTensor*);
  // Optional: libraries built with XNNPACK export its delegate.
  TfLiteDelegate* (*XnnpackCreate)(const XnnpackOptions29*);
  void (*XnnpackDelete)(TfLiteDelegate*);
};

template <typename F>
void Resolve(void* handle, const char* name, F& fn, bool required, std::string& missing) {
  fn = reinterpret_cast<F>(dlsym(handle, name));
  if (fn == nullptr && required) missing += std::string(missing.empty() ? "" : ", ") + name;
}

// A TFLite C library, opened once per path and kept for the life of the process (libraries that
// start threads do not survive dlclose).
class Library : public Napi::ObjectWrap<Library> {
 public:
  // Per environment (each worker thread loads the addon anew): the class, to check arguments against.
  static Napi::Function Define(Napi::Env env) {
    auto f = DefineClass(env, "Library",
                         {InstanceAccessor("version", &Library::GetVersion, nullptr), InstanceAccessor("xnnpack", &Library::GetXnnpack, nullptr)});
    env.SetInstanceData(new Napi::FunctionReference(Napi::Persistent(f)));
    return f;
  }

  static bool Is(Napi::Env env, Napi::Value v) {
    return v.IsObject() && v.As<Napi::Object>().InstanceOf(env.GetInstanceData<Napi::FunctionReference>()->Value());
  }

  // new Library(path: string)
  explicit Library(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Library>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "Library(path: string)");
    std::string path = info[0].As<Napi::String>();
    // RTLD_LOCAL: the library's own symbols stay out of the global scope, so two versions never
    // bind to each other's functions.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* e = dlerror();
      throw Napi::Error::New(env, std::string("cannot open the TFLite library: ") + (e ? e : path));
    }
    std::string missing;
    Resolve(handle, "TfLiteVersion", api_.Version, true, missing);
    Resolve(handle, "TfLiteModelCreate", api_.ModelCreate, true, missing);
    Resolve(handle, "TfLiteModelDelete", api_.ModelDelete, true, missing);
    Resolve(handle, "TfLiteInterpreterOptionsCreate", api_.OptionsCreate, true, missing);
    Resolve(handle, "TfLiteInterpreterOptionsDelete", api_.OptionsDelete, true, missing);
    Resolve(handle, "TfLiteInterpreterOptionsSetNumThreads", api_.OptionsSetNumThreads, true, missing);
    Resolve(handle, "TfLiteInterpreterOptionsSetErrorReporter", api_.OptionsSetErrorReporter, true, missing);
    Resolve(handle, "TfLiteInterpreterOptionsAddDelegate", api_.OptionsAddDelegate, true, missing);
    Resolve(handle, "TfLiteInterpreterCreate", api_.InterpreterCreate, true, missing);
    Resolve(handle, "TfLiteInterpreterDelete", api_.InterpreterDelete, true, missing);
    Resolve(handle, "TfLiteInterpreterGetInputTensorCount", api_.InputCount, true, missing);
    Resolve(handle, "TfLiteInterpreterGetInputTensor", api_.InputTensor, true, missing);
    Resolve(handle, "TfLiteInterpreterResizeInputTensor", api_.ResizeInput, true, missing);
    Resolve(handle, "TfLiteInterpreterAllocateTensors", api_.AllocateTensors, true, missing);
    Resolve(handle, "TfLiteInterpreterInvoke", api_.Invoke, true, missing);
    Resolve(handle, "TfLiteInterpreterGetOutputTensorCount", api_.OutputCount, true, missing);
    Resolve(handle, "TfLiteInterpreterGetOutputTensor", api_.OutputTensor, true, missing);
    Resolve(handle, "TfLiteTensorType", api_.TensorType, true, missing);
    Resolve(handle, "TfLiteTensorNumDims", api_.NumDims, true, missing);
    Resolve(handle, "TfLiteTensorDim", api_.Dim, true, missing);
    Resolve(handle, "TfLiteTensorByteSize", api_.ByteSize, true, missing);
    Resolve(handle, "TfLiteTensorData", api_.Data, true, missing);
    Resolve(handle, "TfLiteTensorName", api_.Name, true, missing);
    Resolve(handle, "TfLiteTensorQuantizationParams", api_.Quantization, true, missing);
    Resolve(handle, "TfLiteXNNPackDelegateCreate", api_.XnnpackCreate, false, missing);
    Resolve(handle, "TfLiteXNNPackDelegateDelete", api_.XnnpackDelete, false, missing);
    if (!missing.empty()) throw Napi::Error::New(env, "the TFLite library " + path + " lacks " + missing);
  }

  const Api& api() const { return api_; }

 private:
  Napi::Value GetVersion(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), api_.Version()); }
  Napi::Value GetXnnpack(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), api_.XnnpackCreate != nullptr && api_.XnnpackDelete != nullptr);
  }

  Api api_{};
};

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

Napi::Object Describe(Napi::Env env, const Api& api, const TfLiteTensor* t) {
  auto o = Napi::Object::New(env);
  const char* name = api.Name(t);
  o.Set("name", Napi::String::New(env, name ? name : ""));
  o.Set("type", Napi::Number::New(env, api.TensorType(t)));
  int n = api.NumDims(t);
  auto dims = Napi::Array::New(env, n > 0 ? n : 0);
  for (int i = 0; i < n; i++) dims.Set(i, Napi::Number::New(env, api.Dim(t, i)));
  o.Set("dims", dims);
  auto q = api.Quantization(t);
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

  // new Interpreter(library: Library, bytes: Uint8Array, numThreads: number, xnnpackFlags: number)
  // xnnpackFlags < 0: no XNNPACK delegate; otherwise the delegate with these flags (QS8 = 1, QU8 = 2).
  explicit Interpreter(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Interpreter>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !Library::Is(env, info[0]) ||
        !info[1].IsTypedArray() || !info[2].IsNumber() || !info[3].IsNumber()) {
      throw Napi::TypeError::New(env, "Interpreter(library: Library, bytes: Uint8Array, numThreads: number, xnnpackFlags: number)");
    }
    library_ = Napi::Persistent(info[0].As<Napi::Object>());
    api_ = &Library::Unwrap(info[0].As<Napi::Object>())->api();
    auto bytes = info[1].As<Napi::Uint8Array>();
    // The model reads its buffer for as long as it lives: keep a copy of our own.
    data_.assign(bytes.Data(), bytes.Data() + bytes.ByteLength());
    threads_ = info[2].As<Napi::Number>().Int32Value();
    xnnpack_ = info[3].As<Napi::Number>().Int32Value();
    if (xnnpack_ >= 0 && api_->XnnpackCreate == nullptr) throw Napi::Error::New(env, "this TFLite library has no XNNPACK delegate");
    std::string error = Build();
    if (!error.empty()) throw Napi::Error::New(env, error);
  }

  ~Interpreter() override { Release(); }

 private:
  // Builds the model, the delegate and the interpreter at the model's declared shapes; "" or why not.
  std::string Build() {
    model_ = api_->ModelCreate(data_.data(), data_.size());
    if (model_ == nullptr) return "the bytes are not a valid TFLite flatbuffer";
    auto* options = api_->OptionsCreate();
    if (threads_ > 0) api_->OptionsSetNumThreads(options, threads_);
    api_->OptionsSetErrorReporter(options, &Reporter::Report, &reporter_);
    if (xnnpack_ >= 0) {
      // XNNPACK's own pool only when more than one thread is wanted, as TFLite does.
      XnnpackOptions29 o{threads_ > 1 ? threads_ : 0, static_cast<uint32_t>(xnnpack_)};
      delegate_ = api_->XnnpackCreate(&o);
      if (delegate_ != nullptr) api_->OptionsAddDelegate(options, delegate_);
    }
    interpreter_ = api_->InterpreterCreate(model_, options);
    api_->OptionsDelete(options);
    if (interpreter_ == nullptr) {
      Release();
      return reporter_.Take("TFLite could not build an interpreter for the model");
    }
    if (api_->AllocateTensors(interpreter_) != kTfLiteOk) {
      Release();
      return reporter_.Take("TFLite could not allocate the model's tensors");
    }
    allocated_ = true;
    return "";
  }

  // After a failed resize or allocation the interpreter is left half-prepared (TFLite 2.9's XNNPACK
  // delegate segfaults on the next Invoke): start again from the bytes, at the declared shapes.
  Napi::Error Fail(Napi::Env env, const char* fallback) {
    std::string why = reporter_.Take(fallback);
    Release();
    std::string again = Build();
    if (!again.empty()) why += "; rebuilding the interpreter failed: " + again;
    return Napi::Error::New(env, why);
  }


  void Release() {
    if (interpreter_ != nullptr) api_->InterpreterDelete(interpreter_);
    if (model_ != nullptr) api_->ModelDelete(model_);
    // The delegate outlives the interpreter that used it.
    if (delegate_ != nullptr) api_->XnnpackDelete(delegate_);
    interpreter_ = nullptr;
    model_ = nullptr;
    delegate_ = nullptr;
  }

  void Open(Napi::Env env) {
    if (interpreter_ == nullptr) throw Napi::Error::New(env, closed_ ? "the TFLite interpreter was closed" : "the TFLite interpreter could not be rebuilt");
  }

  // { inputs: [{name, type, dims, scale, zeroPoint}], outputs: [...] } as the model stands now.
  Napi::Value DescribeAll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Open(env);
    auto o = Napi::Object::New(env);
    int ni = api_->InputCount(interpreter_);
    int no = api_->OutputCount(interpreter_);
    auto in = Napi::Array::New(env, ni);
    for (int i = 0; i < ni; i++) in.Set(i, Describe(env, *api_, api_->InputTensor(interpreter_, i)));
    auto out = Napi::Array::New(env, no);
    for (int i = 0; i < no; i++) out.Set(i, Describe(env, *api_, api_->OutputTensor(interpreter_, i)));
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
    int ni = api_->InputCount(interpreter_);
    if (static_cast<int>(inputs.Length()) != ni) {
      throw Napi::Error::New(env, "expected " + std::to_string(ni) + " inputs, got " + std::to_string(inputs.Length()));
    }
    for (int i = 0; i < ni; i++) {
      auto dims = inputs.Get(i).As<Napi::Object>().Get("dims").As<Napi::Array>();
      std::vector<int> want(dims.Length());
      for (uint32_t d = 0; d < dims.Length(); d++) want[d] = dims.Get(d).As<Napi::Number>().Int32Value();
      const TfLiteTensor* t = api_->InputTensor(interpreter_, i);
      bool same = api_->NumDims(t) == static_cast<int>(want.size());
      for (size_t d = 0; same && d < want.size(); d++) same = api_->Dim(t, static_cast<int>(d)) == want[d];
      if (!same) {
        allocated_ = false;
        if (api_->ResizeInput(interpreter_, i, want.data(), static_cast<int>(want.size())) != kTfLiteOk) {
          throw Fail(env, "TFLite could not resize the input");
        }
      }
    }
    if (!allocated_) {
      if (api_->AllocateTensors(interpreter_) != kTfLiteOk) {
        throw Fail(env, "TFLite could not allocate tensors for these input shapes");
      }
      allocated_ = true;
    }
    for (int i = 0; i < ni; i++) {
      auto data = inputs.Get(i).As<Napi::Object>().Get("data").As<Napi::Uint8Array>();
      TfLiteTensor* t = api_->InputTensor(interpreter_, i);
      size_t size = api_->ByteSize(t);
      if (data.ByteLength() != size) {
        throw Napi::Error::New(env, "input " + std::to_string(i) + " has " + std::to_string(data.ByteLength()) +
                                        " bytes where the model's tensor holds " + std::to_string(size));
      }
      void* dst = api_->Data(t);
      if (size > 0 && dst == nullptr) throw Napi::Error::New(env, "TFLite input " + std::to_string(i) + " has no buffer");
      if (size > 0) std::memcpy(dst, data.Data(), size);
    }
    if (api_->Invoke(interpreter_) != kTfLiteOk) {
      // A delegate's state after a failed run is not to be trusted either.
      if (delegate_ != nullptr) throw Fail(env, "TFLite failed to run the model");
      throw Napi::Error::New(env, reporter_.Take("TFLite failed to run the model"));
    }
    int no = api_->OutputCount(interpreter_);
    auto out = Napi::Array::New(env, no);
    for (int i = 0; i < no; i++) {
      const TfLiteTensor* t = api_->OutputTensor(interpreter_, i);
      auto o = Describe(env, *api_, t);
      size_t size = api_->ByteSize(t);
      auto buf = Napi::ArrayBuffer::New(env, size);
      const void* src = api_->Data(t);
      if (size > 0 && src != nullptr) std::memcpy(buf.Data(), src, size);
      o.Set("data", buf);
      out.Set(i, o);
    }
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    closed_ = true;
    Release();
    return info.Env().Undefined();
  }

  Napi::ObjectReference library_;
  const Api* api_ = nullptr;
  std::vector<uint8_t> data_;
  TfLiteModel* model_ = nullptr;
  TfLiteInterpreter* interpreter_ = nullptr;
  TfLiteDelegate* delegate_ = nullptr;
  Reporter reporter_;
  int threads_ = 0;
  int xnnpack_ = -1;
  bool allocated_ = true;
  bool closed_ = false;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Library", Library::Define(env));
  exports.Set("Interpreter", Interpreter::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(respai_tflite, Init)
