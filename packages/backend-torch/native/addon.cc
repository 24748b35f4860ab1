// The TORCH backend's native half: TorchScript models and scripts on libtorch, run on the addon's
// own threads; results and redis.execute calls cross back to JS through one thread-safe function
// per Node environment. Every C++ exception is caught and becomes a JS Error: nothing a client
// sends may take the process down.

#include <napi.h>

#include <ATen/Parallel.h>
#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/script.h>
#include <torch/version.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

// The package version (Debian ships 1.13.1 sources whose generated version.h still says 1.13.0);
// the build passes it in, the header's is the fallback.
#ifndef RESPAI_TORCH_VERSION
#define RESPAI_TORCH_VERSION TORCH_VERSION
#endif

namespace {

const char* const kVersion = RESPAI_TORCH_VERSION;

// ---- errors -------------------------------------------------------------------------------------

// c10 errors carry a C++ backtrace in what(); clients get the message only.
std::string Message(const std::exception& e) {
  std::string m = e.what();
  if (auto* ce = dynamic_cast<const c10::Error*>(&e)) m = ce->what_without_backtrace();
  auto first = m.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return m.substr(first, m.find_last_not_of(" \t\r\n") - first + 1);
}

// An error whose message is the whole reply text (set by a redis.execute / model_execute failure).
struct HostError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs `f` inside a JS callback: non-Napi exceptions would otherwise terminate the process.
template <typename F>
auto Guard(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, Message(e));
  } catch (...) {
    throw Napi::Error::New(env, "unknown native error");
  }
}

// ---- process-wide state -------------------------------------------------------------------------

std::atomic<bool> g_exiting{false};
std::atomic<int> g_running{0};  // jobs inside Execute() or posting their result

struct Waiter;
std::mutex g_waiters_mu;
std::unordered_set<std::shared_ptr<Waiter>> g_waiters;

// A worker thread blocked on a JS reply (redis.execute, model_execute).
struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool failed = false;
  c10::IValue value;
  std::string error;

  void Resolve(c10::IValue v) {
    std::lock_guard<std::mutex> l(mu);
    if (done) return;
    value = std::move(v);
    done = true;
    cv.notify_all();
  }
  void Fail(std::string msg) {
    std::lock_guard<std::mutex> l(mu);
    if (done) return;
    error = std::move(msg);
    failed = true;
    done = true;
    cv.notify_all();
  }
  c10::IValue Wait() {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [this] { return done; });
    if (failed) throw HostError(error);
    return value;
  }
};

void FailAllWaiters(const char* why) {
  std::lock_guard<std::mutex> l(g_waiters_mu);
  for (auto& w : g_waiters) w->Fail(why);
}

// At process exit libtorch's statics are destroyed while our threads may still be inside it.
// This runs first (registered after libtorch loaded): unblock waiters, give runs a moment to end.
void AtExit() {
  g_exiting = true;
  FailAllWaiters("the server is shutting down");
  for (int i = 0; i < 500 && g_running.load() > 0; i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// ---- threads ------------------------------------------------------------------------------------

// The addon's own threads: one per concurrent job, grown on demand and retired when idle, so a
// script blocked on redis.execute / model_execute never starves another run (the libuv pool
// would: its 4 threads are shared with fs and dns). Never destroyed: threads outlive main().
class Pool {
 public:
  static Pool& Get() {
    static Pool* p = new Pool();
    return *p;
  }
  void Submit(std::function<void()> f) {
    std::unique_lock<std::mutex> l(mu_);
    q_.push_back(std::move(f));
    if (idle_ >= q_.size()) {
      cv_.notify_one();
      return;
    }
    l.unlock();
    std::thread([this] { Loop(); }).detach();
  }

 private:
  void Loop() {
    at::init_num_threads();  // applies at::set_num_threads to this thread's OpenMP settings
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      while (q_.empty()) {
        idle_++;
        bool woke = cv_.wait_for(l, std::chrono::seconds(30), [this] { return !q_.empty(); });
        idle_--;
        if (!woke) return;
      }
      auto f = std::move(q_.front());
      q_.pop_front();
      l.unlock();
      f();
      l.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  size_t idle_ = 0;
};

// Runs of one engine slot, in order, on one thread of their own (the slot's lane): the thread
// takes the next run the moment one ends instead of waiting for the event loop to hand it over.
// Each lane thread is created on first use and kept for the process.
class Lane {
 public:
  void Push(std::function<void()> f) {
    {
      std::lock_guard<std::mutex> l(mu_);
      q_.push_back(std::move(f));
      if (!started_) {
        started_ = true;
        std::thread([this] { Loop(); }).detach();
        return;
      }
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    at::init_num_threads();
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [this] { return !q_.empty(); });
      auto f = std::move(q_.front());
      q_.pop_front();
      l.unlock();
      f();
      l.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  bool started_ = false;
};

Lane& LaneAt(uint32_t i) {
  static std::mutex mu;
  static auto* lanes = new std::vector<std::unique_ptr<Lane>>();  // never destroyed: threads outlive main()
  std::lock_guard<std::mutex> l(mu);
  if (i >= 4096) throw std::runtime_error("lane index out of range");
  while (lanes->size() <= i) lanes->push_back(std::make_unique<Lane>());
  return *(*lanes)[i];
}

// A queued run's control record, shared with JS (a SharedArrayBuffer the backend registers):
// state 0 waiting, 1 started, 2 withdrawn (set by JS), and the run's compute time in us.
enum RunState : int32_t { kWaiting = 0, kStarted = 1, kWithdrawn = 2 };
struct ControlBlock {
  int32_t* states = nullptr;
  double* micros = nullptr;
  uint32_t size = 0;
  std::shared_ptr<void> keep;  // the backing store stays alive while any job may touch it
};
std::mutex g_control_mu;
std::shared_ptr<ControlBlock> g_control;

// ---- main-thread bridge -------------------------------------------------------------------------

// Something to do on the JS thread. Abandon: the environment is gone; returns whether to delete
// (objects holding JS references cannot be freed safely then, so they leak).
struct Item {
  virtual ~Item() = default;
  virtual void Run(Napi::Env env) = 0;
  virtual bool Abandon() = 0;
};

void CallJs(Napi::Env env, Napi::Function, std::nullptr_t*, Item* item) {
  if (item == nullptr) return;
  if (env == nullptr) {
    if (item->Abandon()) delete item;
    return;
  }
  item->Run(env);
  delete item;
}

using Tsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, Item, CallJs>;

// One per Node environment (main thread or worker_thread).
struct Bridge {
  std::mutex mu;
  bool closed = false;
  Tsfn tsfn;
  int inflight = 0;  // JS thread only

  bool Post(Item* item) {
    std::lock_guard<std::mutex> l(mu);
    if (closed || g_exiting) return false;
    return tsfn.NonBlockingCall(item) == napi_ok;
  }
  // An idle addon must not keep the process alive; a pending job must.
  void Begin(Napi::Env env) {
    if (inflight++ == 0) tsfn.Ref(env);
  }
  void End(Napi::Env env) {
    if (--inflight == 0) tsfn.Unref(env);
  }
};

struct AddonData {
  std::shared_ptr<Bridge> bridge;
};

std::shared_ptr<Bridge> BridgeOf(Napi::Env env) { return env.GetInstanceData<AddonData>()->bridge; }

// ---- dtypes -------------------------------------------------------------------------------------

struct DtypeMap {
  const char* name;
  at::ScalarType type;
  size_t size;
};

// respai dtypes in torch. UINT16 has no torch 1.13 type: it is widened to int32 (lossless).
const DtypeMap kDtypes[] = {
    {"FLOAT", at::kFloat, 4}, {"DOUBLE", at::kDouble, 8}, {"INT8", at::kChar, 1},  {"INT16", at::kShort, 2},
    {"INT32", at::kInt, 4},   {"INT64", at::kLong, 8},    {"UINT8", at::kByte, 1}, {"UINT16", at::kInt, 2},
    {"BOOL", at::kBool, 1},
};

const DtypeMap& DtypeByName(const std::string& name) {
  for (auto& d : kDtypes)
    if (name == d.name) return d;
  if (name == "STRING") throw std::runtime_error("TORCH cannot take STRING tensors: torch has no string tensor type");
  throw std::runtime_error("unknown tensor dtype " + name);
}

const char* DtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "FLOAT";
    case at::kDouble: return "DOUBLE";
    case at::kChar: return "INT8";
    case at::kShort: return "INT16";
    case at::kInt: return "INT32";
    case at::kLong: return "INT64";
    case at::kByte: return "UINT8";
    case at::kBool: return "BOOL";
    default: return nullptr;
  }
}

// ---- tensors across the boundary ----------------------------------------------------------------

// A respai Tensor read on the JS thread; its Buffer stays referenced until the job completes, so
// the worker reads the bytes in place (and copies them: torch ops may write into their inputs,
// and respai tensors are immutable and shared).
struct InTensor {
  const DtypeMap* dtype = nullptr;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t bytes = 0;
};

InTensor ReadTensor(Napi::Value v, std::vector<Napi::Reference<Napi::Value>>& keep) {
  if (!v.IsObject()) throw std::runtime_error("expected a tensor");
  auto obj = v.As<Napi::Object>();
  auto dtype = obj.Get("dtype");
  auto shape = obj.Get("shape");
  auto data = obj.Get("data");
  if (!dtype.IsString() || !shape.IsArray() || !data.IsBuffer()) throw std::runtime_error("expected a tensor");
  InTensor t;
  t.dtype = &DtypeByName(dtype.As<Napi::String>().Utf8Value());
  auto arr = shape.As<Napi::Array>();
  size_t n = 1;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    auto d = arr.Get(i);
    if (!d.IsNumber()) throw std::runtime_error("tensor shape must hold numbers");
    int64_t dim = d.As<Napi::Number>().Int64Value();
    if (dim < 0) throw std::runtime_error("negative tensor dimension");
    t.shape.push_back(dim);
    n *= static_cast<size_t>(dim);
  }
  auto buf = data.As<Napi::Buffer<uint8_t>>();
  t.data = buf.Data();
  t.bytes = buf.Length();
  if (t.bytes != n * t.dtype->size) throw std::runtime_error("tensor data length does not match its shape");
  keep.push_back(Napi::Persistent(data));
  return t;
}

at::Tensor ToTorch(const InTensor& in) {
  auto out = at::empty(in.shape, at::TensorOptions().dtype(in.dtype->type));
  if (std::strcmp(in.dtype->name, "UINT16") == 0) {
    auto* dst = out.data_ptr<int32_t>();
    size_t n = in.bytes / 2;
    for (size_t i = 0; i < n; i++) {
      uint16_t v;
      std::memcpy(&v, in.data + 2 * i, 2);  // the Buffer may sit at an odd offset
      dst[i] = v;
    }
  } else if (in.bytes > 0) {
    std::memcpy(out.data_ptr(), in.data, in.bytes);
  }
  return out;
}

// Makes a result tensor something respai can hold: dense, contiguous, CPU, a respai dtype.
at::Tensor Normalize(at::Tensor t, const std::string& what) {
  if (!t.defined()) throw std::runtime_error(what + " is an undefined tensor");
  if (t.layout() != at::kStrided) t = t.to_dense();
  if (!t.device().is_cpu()) t = t.cpu();
  if (t.is_conj()) t = t.resolve_conj();
  if (t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16) t = t.to(at::kFloat);  // lossless
  if (DtypeName(t.scalar_type()) == nullptr)
    throw std::runtime_error(what + " has dtype " + std::string(c10::toString(t.scalar_type())) +
                             ", which respai tensors cannot hold");
  for (auto d : t.sizes()) {
    if (d == 0) {
      std::ostringstream s;
      s << what << " is empty (shape " << t.sizes() << "); respai tensors need every dimension > 0";
      throw std::runtime_error(s.str());
    }
  }
  return t.contiguous();
}

// Outputs up to this size are copied into a JS buffer; larger ones are lent (the tensor's memory).
constexpr size_t kCopyOutputBytes = 16 * 1024;

// [dtype, shape, Buffer]: the Buffer is the tensor's own memory (kept alive by its finalizer), or a copy.
Napi::Value TensorToJs(Napi::Env env, const at::Tensor& t) {
  auto arr = Napi::Array::New(env, 3);
  arr.Set(0u, Napi::String::New(env, DtypeName(t.scalar_type())));
  auto shape = Napi::Array::New(env, t.dim());
  for (int64_t i = 0; i < t.dim(); i++) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(t.size(i))));
  arr.Set(1u, shape);
  size_t bytes = t.nbytes();
  if (bytes <= kCopyOutputBytes) {
    // A copy costs less than a finalizer and an external-memory hint for small outputs.
    arr.Set(2u, Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(t.data_ptr()), bytes));
    return arr;
  }
  auto* holder = new at::Tensor(t);
  auto buf = Napi::Buffer<uint8_t>::NewOrCopy(
      env, static_cast<uint8_t*>(t.data_ptr()), bytes,
      [bytes](Napi::Env env, uint8_t*, at::Tensor* h) {
        Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(bytes));
        delete h;
      },
      holder);
  // V8 cannot see this memory; without the hint it would not collect these buffers soon enough.
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes));
  arr.Set(2u, buf);
  return arr;
}

Napi::Value TensorsToJs(Napi::Env env, const std::vector<at::Tensor>& ts) {
  auto arr = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); i++) arr.Set(static_cast<uint32_t>(i), TensorToJs(env, ts[i]));
  return arr;
}

// A model's or function's return value as output tensors: a Tensor, a tuple or list of them, or
// None (no outputs).
std::vector<at::Tensor> Flatten(const c10::IValue& v, const std::string& who) {
  std::vector<at::Tensor> out;
  auto add = [&](const c10::IValue& x) {
    if (x.isTensor()) {
      out.push_back(Normalize(x.toTensor(), "output " + std::to_string(out.size())));
    } else if (x.isTensorList()) {
      for (const at::Tensor& t : x.toTensorVector()) out.push_back(Normalize(t, "output " + std::to_string(out.size())));
    } else {
      throw std::runtime_error(who + " returned " + x.type()->str() +
                               " among its results; only Tensors, or tuples and lists of Tensors, can be outputs");
    }
  };
  if (v.isNone()) return out;
  if (v.isTensor() || v.isTensorList()) {
    add(v);
  } else if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) add(e);
  } else if (v.isList()) {
    for (const c10::IValue& e : v.toListRef()) add(e);
  } else {
    throw std::runtime_error(who + " returned " + v.type()->str() +
                             "; it must return a Tensor, or a tuple or list of Tensors");
  }
  return out;
}

// ---- jobs ---------------------------------------------------------------------------------------

// A unit of work: Execute() on a pool thread, then Run() (settle the promise) on the JS thread.
struct Job : Item {
  std::shared_ptr<Bridge> bridge;
  Napi::Promise::Deferred deferred;
  std::vector<Napi::Reference<Napi::Value>> keep;
  bool failed = false;
  bool hostFailed = false;
  std::string error;
  // Queued runs only (a lane): their control record, deadline (ms since the epoch) and why they
  // did not start ("timeout" or "withdrawn"; empty when they ran).
  std::shared_ptr<ControlBlock> control;
  int64_t cell = -1;
  double deadlineMs = 0;
  const char* skipped = nullptr;

  // Called on the lane before Execute: false when the run must not start.
  bool Claim() {
    if (deadlineMs > 0 && static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch()).count()) >= deadlineMs) {
      skipped = "timeout";
      if (control) __atomic_store_n(&control->states[cell], kStarted, __ATOMIC_SEQ_CST);
      return false;
    }
    if (!control) return true;
    int32_t expected = kWaiting;
    if (__atomic_compare_exchange_n(&control->states[cell], &expected, kStarted, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) return true;
    skipped = "withdrawn";
    return false;
  }

  explicit Job(Napi::Env env) : bridge(BridgeOf(env)), deferred(Napi::Promise::Deferred::New(env)) {}

  virtual void Execute() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;

  void Run(Napi::Env env) override {
    Napi::HandleScope scope(env);
    if (skipped != nullptr) {
      auto err = Napi::Error::New(env, std::string("run not started: ") + skipped);
      err.Set("respaiNotStarted", Napi::String::New(env, skipped));
      deferred.Reject(err.Value());
    } else if (failed) {
      auto err = Napi::Error::New(env, error);
      if (hostFailed) err.Set("respaiHostError", Napi::Boolean::New(env, true));
      deferred.Reject(err.Value());
    } else {
      try {
        deferred.Resolve(Result(env));
      } catch (const Napi::Error& e) {
        deferred.Reject(e.Value());
      } catch (const std::exception& e) {
        deferred.Reject(Napi::Error::New(env, Message(e)).Value());
      }
    }
    bridge->End(env);
  }
  bool Abandon() override { return false; }
};

void Perform(Job* job) {
  g_running++;
  if (!g_exiting && (job->cell < 0 && job->deadlineMs == 0 ? true : job->Claim())) {
    auto t0 = std::chrono::steady_clock::now();
    try {
      job->Execute();
    } catch (const HostError& e) {
      job->failed = job->hostFailed = true;
      job->error = e.what();
    } catch (const std::exception& e) {
      job->failed = true;
      job->error = Message(e);
    } catch (...) {
      job->failed = true;
      job->error = "unknown native error";
    }
    if (job->control) {
      job->control->micros[job->cell] =
          static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count());
    }
    job->bridge->Post(job);  // on failure (environment gone) the job leaks: it holds JS references
  } else if (!g_exiting) {
    job->bridge->Post(job);  // not started: rejected with why
  }
  g_running--;
}

Napi::Value Submit(Napi::Env env, Job* job) {
  auto promise = job->deferred.Promise();
  job->bridge->Begin(env);
  Pool::Get().Submit([job] { Perform(job); });
  return promise;
}

// A run of an engine slot: onto that slot's lane when `lane` >= 0, with its control cell (-1:
// none) and deadline (0: none); otherwise straight onto the pool (a script's model_execute,
// which must not queue behind the script waiting for it).
Napi::Value SubmitRun(Napi::Env env, Job* job, const Napi::CallbackInfo& info, size_t at) {
  int64_t lane = info.Length() > at && info[at].IsNumber() ? info[at].As<Napi::Number>().Int64Value() : -1;
  if (lane < 0) return Submit(env, job);
  job->cell = info.Length() > at + 1 && info[at + 1].IsNumber() ? info[at + 1].As<Napi::Number>().Int64Value() : -1;
  job->deadlineMs = info.Length() > at + 2 && info[at + 2].IsNumber() ? info[at + 2].As<Napi::Number>().DoubleValue() : 0;
  if (!std::isfinite(job->deadlineMs)) job->deadlineMs = 0;
  if (job->cell >= 0) {
    std::lock_guard<std::mutex> l(g_control_mu);
    if (!g_control || job->cell >= g_control->size) throw std::runtime_error("run control cell out of range");
    job->control = g_control;
  }
  Lane& l = LaneAt(static_cast<uint32_t>(lane));
  auto promise = job->deferred.Promise();
  job->bridge->Begin(env);
  l.Push([job] { Perform(job); });
  return promise;
}

// Registers the run control records: an Int32Array over a SharedArrayBuffer of `size` * 16 bytes,
// `size` int32 states, then (at byte size * 8) `size` float64 compute times in us.
Napi::Value SetRunControl(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (!info[0].IsTypedArray() || !info[1].IsNumber()) throw Napi::TypeError::New(env, "setRunControl(view: Int32Array, size: number)");
    auto view = info[0].As<Napi::TypedArrayOf<int32_t>>();
    uint32_t size = info[1].As<Napi::Number>().Uint32Value();
    if (view.ElementLength() < static_cast<size_t>(size) * 4) throw std::runtime_error("run control buffer too small");
    auto block = std::make_shared<ControlBlock>();
    block->states = view.Data();
    block->micros = reinterpret_cast<double*>(view.Data() + static_cast<size_t>(size) * 2);
    block->size = size;
    // The view (and its SharedArrayBuffer) stays referenced for the life of the process: a job
    // in flight may write into it after the backend registered a newer one.
    auto* ref = new Napi::Reference<Napi::Value>(Napi::Persistent(Napi::Value(view)));
    block->keep = std::shared_ptr<void>(ref, [](void*) {});
    std::lock_guard<std::mutex> l(g_control_mu);
    g_control = block;
    return env.Undefined();
  });
}

// ---- models -------------------------------------------------------------------------------------

struct ModelHandle {
  std::shared_ptr<torch::jit::Module> module;  // reset by dispose; runs hold their own copy
  std::mutex mu;
  std::shared_ptr<torch::jit::Module> Get() {
    std::lock_guard<std::mutex> l(mu);
    if (!module) throw std::runtime_error("the model was disposed");
    return module;
  }
};

// Reads a model blob in place (no copy, no temp file); the JS Buffer is referenced by the job.
class MemoryAdapter : public caffe2::serialize::ReadAdapterInterface {
 public:
  MemoryAdapter(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  size_t size() const override { return size_; }
  size_t read(uint64_t pos, void* buf, size_t n, const char*) const override {
    if (pos >= size_) return 0;
    n = std::min<size_t>(n, size_ - pos);
    std::memcpy(buf, data_ + pos, n);
    return n;
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

bool Contains(const uint8_t* data, size_t size, const std::string& needle) {
  if (needle.size() > size) return false;
  return std::search(data, data + size, needle.begin(), needle.end()) != data + size;
}

// A complete zip ends with its end-of-central-directory record: 22 bytes and a comment of the
// length it states. A truncated archive does not.
bool EndsWithZipDirectory(const uint8_t* data, size_t size) {
  for (size_t back = 22; back <= size && back <= 22 + 65535; back++) {
    const uint8_t* p = data + size - back;
    if (std::memcmp(p, "PK\x05\x06", 4) == 0 && 22 + static_cast<size_t>(p[20] | (p[21] << 8)) == back) return true;
  }
  return false;
}

std::string VersionTooNew(const std::string& archiveVersion) {
  return "this TorchScript archive has file format version " + archiveVersion +
         ", newer than this server's libtorch " + kVersion + " reads (versions " +
         std::to_string(caffe2::serialize::kMinSupportedFileFormatVersion) + " to " +
         std::to_string(caffe2::serialize::kMaxSupportedFileFormatVersion) +
         "): it was saved by a newer PyTorch; save it with PyTorch 1.13 or older";
}

// Checks what users upload by mistake before handing the bytes to torch::jit::load, whose own
// messages for these cases are obscure.
void CheckArchive(const uint8_t* data, size_t size) {
  if (size == 0) throw std::runtime_error("the model blob is empty");
  if (size >= 2 && data[0] == 0x80 && data[1] >= 2 && data[1] <= 5) {
    throw std::runtime_error(
        "this is a Python pickle (torch.save), not a TorchScript model: export the model with "
        "torch.jit.script(model) or torch.jit.trace(model, example) and save it with torch.jit.save");
  }
  if (size < 4 || std::memcmp(data, "PK\x03\x04", 4) != 0) {
    throw std::runtime_error(
        "this is not a TorchScript model: a TorchScript model is the zip archive written by torch.jit.save");
  }
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(std::make_shared<MemoryAdapter>(data, size));
  } catch (const std::exception& e) {
    std::string msg = Message(e);
    auto at = msg.find("Attempted to read a PyTorch file with version ");
    if (at != std::string::npos && msg.find("maximum supported version") != std::string::npos) {
      size_t start = at + std::strlen("Attempted to read a PyTorch file with version ");
      size_t end = start;
      while (end < msg.size() && std::isdigit(static_cast<unsigned char>(msg[end]))) end++;
      throw std::runtime_error(VersionTooNew(msg.substr(start, end - start)));
    }
    auto reason = msg.substr(0, msg.find('\n'));
    if (EndsWithZipDirectory(data, size)) {
      throw std::runtime_error("this zip archive is not a TorchScript model (" + reason + ")");
    }
    throw std::runtime_error("the TorchScript archive is corrupt or truncated (" + reason + ")");
  }
  bool hasCode = false, hasData = false;
  for (const auto& r : reader->getAllRecords()) {
    if (r.rfind("code/", 0) == 0) hasCode = true;
    if (r == "data.pkl") hasData = true;
  }
  if (!hasCode && hasData) {
    throw std::runtime_error(
        "this is a torch.save archive (weights or a pickled nn.Module), not a TorchScript model: export the "
        "model with torch.jit.script(model) or torch.jit.trace(model, example) and save it with torch.jit.save");
  }
  if (!hasCode) throw std::runtime_error("this zip archive is not a TorchScript model (it has no code/ directory)");
}

struct LoadModelJob : Job {
  const uint8_t* data;
  size_t size;
  torch::jit::Module module;
  std::vector<std::string> inputs;
  size_t nOutputs = 1;
  using Job::Job;

  void Execute() override {
    CheckArchive(data, size);
    try {
      module = torch::jit::load(std::make_shared<MemoryAdapter>(data, size), c10::Device(c10::kCPU));
    } catch (const std::exception& e) {
      std::string msg = "could not load the TorchScript model: " + Message(e);
      // PyTorch writes .data/serialization_id since 2.1: name the likely cause.
      if (Contains(data, size, "/.data/serialization_id")) {
        msg += std::string(" (the archive was saved by PyTorch 2.1 or later; this server's libtorch is ") + kVersion +
               ": save it with PyTorch 1.13 or older)";
      }
      throw std::runtime_error(msg);
    }
    auto forward = module.find_method("forward");
    if (!forward) throw std::runtime_error("the TorchScript model has no forward method");
    const auto& schema = forward->function().getSchema();
    const auto& args = schema.arguments();
    for (size_t i = 1; i < args.size(); i++) inputs.push_back(args[i].name());  // args[0] is self
    const auto& rets = schema.returns();
    if (rets.size() == 1 && rets[0].type()->kind() == c10::TypeKind::TupleType) {
      nOutputs = rets[0].type()->containedTypes().size();
    } else {
      nOutputs = rets.size();
    }
  }
  Napi::Value Result(Napi::Env env) override {
    auto* h = new ModelHandle();
    h->module = std::make_shared<torch::jit::Module>(std::move(module));
    auto obj = Napi::Object::New(env);
    obj.Set("handle", Napi::External<ModelHandle>::New(env, h, [](Napi::Env, ModelHandle* p) { delete p; }));
    auto names = Napi::Array::New(env, inputs.size());
    for (size_t i = 0; i < inputs.size(); i++) names.Set(static_cast<uint32_t>(i), Napi::String::New(env, inputs[i]));
    obj.Set("inputs", names);
    obj.Set("nOutputs", Napi::Number::New(env, static_cast<double>(nOutputs)));
    return obj;
  }
};

Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (!info[0].IsBuffer()) throw Napi::TypeError::New(env, "loadModel(blob: Buffer)");
    auto buf = info[0].As<Napi::Buffer<uint8_t>>();
    auto* job = new LoadModelJob(env);
    job->data = buf.Data();
    job->size = buf.Length();
    job->keep.push_back(Napi::Persistent(info[0]));
    return Submit(env, job);
  });
}

ModelHandle* ModelArg(const Napi::Value& v) {
  if (!v.IsExternal()) throw std::runtime_error("expected a model handle");
  return v.As<Napi::External<ModelHandle>>().Data();
}

std::vector<at::Tensor> ForwardOnce(torch::jit::Module& m, const std::vector<InTensor>& inputs) {
  std::vector<c10::IValue> stack;
  stack.reserve(inputs.size());
  for (const auto& t : inputs) stack.emplace_back(ToTorch(t));
  return Flatten(m.forward(std::move(stack)), "the model's forward");
}

struct RunModelJob : Job {
  std::shared_ptr<torch::jit::Module> module;
  std::vector<InTensor> inputs;
  std::vector<at::Tensor> outputs;
  using Job::Job;

  void Execute() override {
    c10::InferenceMode guard;
    outputs = ForwardOnce(*module, inputs);
  }
  Napi::Value Result(Napi::Env env) override { return TensorsToJs(env, outputs); }
};

std::vector<InTensor> ReadTensors(Napi::Value v, std::vector<Napi::Reference<Napi::Value>>& keep) {
  if (!v.IsArray()) throw std::runtime_error("expected an array of tensors");
  auto arr = v.As<Napi::Array>();
  std::vector<InTensor> out;
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(ReadTensor(arr.Get(i), keep));
  return out;
}

Napi::Value RunModel(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::unique_ptr<RunModelJob> job(new RunModelJob(env));
    job->module = ModelArg(info[0])->Get();
    job->inputs = ReadTensors(info[1], job->keep);
    auto* j = job.release();
    try {
      return SubmitRun(env, j, info, 2);
    } catch (...) {
      delete j;
      throw;
    }
  });
}

Napi::Value DisposeModel(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto* h = ModelArg(info[0]);
    std::lock_guard<std::mutex> l(h->mu);
    h->module.reset();
    return env.Undefined();
  });
}

// For measurements: forward `iterations` times in a C++ loop on the calling thread; ns per call.
Napi::Value BenchForward(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto m = ModelArg(info[0])->Get();
    std::vector<Napi::Reference<Napi::Value>> keep;
    auto inputs = ReadTensors(info[1], keep);
    int64_t n = info[2].As<Napi::Number>().Int64Value();
    c10::InferenceMode guard;
    auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < n; i++) ForwardOnce(*m, inputs);
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    return Napi::Number::New(env, static_cast<double>(ns) / static_cast<double>(std::max<int64_t>(n, 1)));
  });
}

// ---- scripts: redis.execute and redisAI.model_execute -------------------------------------------

// The script run on this thread: its JS host callback (owned by the run's job) and bridge.
struct ScriptRunCtx {
  std::shared_ptr<Bridge> bridge;
  Napi::FunctionReference* host;
  bool hostFailed = false;
  std::string hostError;
};
thread_local ScriptRunCtx* tls_run = nullptr;

// Converts a ScriptReply (null, bigint, Buffer, string, array, {error}) into a TorchScript value.
c10::IValue ReplyToIValue(const Napi::Value& v, int depth) {
  if (depth > 64) throw std::runtime_error("reply nested too deep");
  if (v.IsNull() || v.IsUndefined()) return c10::IValue();
  if (v.IsBigInt()) {
    bool lossless = false;
    int64_t i = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) throw std::runtime_error("integer reply out of int64 range");
    return c10::IValue(i);
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::nearbyint(d) == d && std::abs(d) < 9007199254740992.0) return c10::IValue(static_cast<int64_t>(d));
    return c10::IValue(d);
  }
  if (v.IsBoolean()) return c10::IValue(v.As<Napi::Boolean>().Value());
  if (v.IsString()) return c10::IValue(v.As<Napi::String>().Utf8Value());
  if (v.IsBuffer()) {
    auto b = v.As<Napi::Buffer<char>>();
    return c10::IValue(std::string(b.Data(), b.Length()));
  }
  if (v.IsArray()) {
    auto arr = v.As<Napi::Array>();
    c10::impl::GenericList list(c10::AnyType::get());
    list.reserve(arr.Length());
    for (uint32_t i = 0; i < arr.Length(); i++) list.push_back(ReplyToIValue(arr.Get(i), depth + 1));
    return c10::IValue(list);
  }
  if (v.IsObject()) {
    auto err = v.As<Napi::Object>().Get("error");
    if (err.IsString()) throw HostError("Redis command returned an error: " + err.As<Napi::String>().Utf8Value());
  }
  throw std::runtime_error("redis.execute got a reply of a kind scripts cannot take");
}

enum HostKind { kExecute = 0, kModelExecute = 1 };

// One call into JS from a script, posted to the JS thread while the worker waits.
struct HostCall : Item {
  std::shared_ptr<Waiter> waiter;
  Napi::FunctionReference* host = nullptr;
  HostKind kind = kExecute;
  std::string name;                   // command, or model key
  std::vector<std::string> args;      // redis.execute arguments
  std::vector<at::Tensor> tensors;    // model_execute inputs
  int64_t nOutputs = 0;

  void Run(Napi::Env env) override {
    Napi::HandleScope scope(env);
    try {
      std::vector<napi_value> argv;
      argv.push_back(Napi::Number::New(env, kind));
      argv.push_back(Napi::String::New(env, name));
      if (kind == kExecute) {
        auto arr = Napi::Array::New(env, args.size());
        for (size_t i = 0; i < args.size(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Buffer<char>::Copy(env, args[i].data(), args[i].size()));
        argv.push_back(arr);
        argv.push_back(Napi::Number::New(env, 0));
      } else {
        argv.push_back(TensorsToJs(env, tensors));
        argv.push_back(Napi::Number::New(env, static_cast<double>(nOutputs)));
      }
      auto w = waiter;
      HostKind k = kind;
      argv.push_back(Napi::Function::New(env, [w, k](const Napi::CallbackInfo& info) {
        try {
          if (!info[0].IsNull() && !info[0].IsUndefined()) {
            w->Fail(info[0].ToString().Utf8Value());
          } else if (k == kExecute) {
            w->Resolve(ReplyToIValue(info[1], 0));
          } else {
            std::vector<Napi::Reference<Napi::Value>> keep;
            auto outs = ReadTensors(info[1], keep);
            std::vector<at::Tensor> ts;
            for (const auto& t : outs) ts.push_back(ToTorch(t));  // copied: the JS buffers are not ours
            w->Resolve(c10::IValue(ts));
          }
        } catch (const HostError& e) {
          w->Fail(e.what());
        } catch (const Napi::Error& e) {
          w->Fail(e.Message());
        } catch (const std::exception& e) {
          w->Fail(Message(e));
        } catch (...) {
          w->Fail("unknown native error");
        }
      }, "done"));
      host->Call(argv);
    } catch (const Napi::Error& e) {
      waiter->Fail(e.Message());
    } catch (const std::exception& e) {
      waiter->Fail(Message(e));
    } catch (...) {
      waiter->Fail("unknown native error");
    }
  }
  bool Abandon() override {
    waiter->Fail("the server is shutting down");
    return true;
  }
};

c10::IValue CallHost(std::unique_ptr<HostCall> call, const char* op) {
  ScriptRunCtx* ctx = tls_run;
  if (ctx == nullptr) throw std::runtime_error(std::string(op) + " can only be called by a script that the server runs");
  auto w = std::make_shared<Waiter>();
  {
    std::lock_guard<std::mutex> l(g_waiters_mu);
    g_waiters.insert(w);
  }
  call->waiter = w;
  call->host = ctx->host;
  if (ctx->bridge->Post(call.get())) {
    call.release();
  } else {
    w->Fail("the server is shutting down");
  }
  struct Unregister {
    std::shared_ptr<Waiter> w;
    ~Unregister() {
      std::lock_guard<std::mutex> l(g_waiters_mu);
      g_waiters.erase(w);
    }
  } unregister{w};
  try {
    return w->Wait();
  } catch (const HostError& e) {
    // The interpreter rethrows op errors as plain runtime_errors wrapped in its traceback; the
    // run reports this text instead (see RunScriptJob).
    ctx->hostFailed = true;
    ctx->hostError = e.what();
    throw;
  }
}

c10::IValue RedisExecute(const std::string& cmd, const std::vector<std::string>& args) {
  auto call = std::make_unique<HostCall>();
  call->kind = kExecute;
  call->name = cmd;
  call->args = args;
  return CallHost(std::move(call), "redis.execute");
}

std::vector<at::Tensor> ModelExecute(const std::string& key, const std::vector<at::Tensor>& inputs, int64_t nOutputs) {
  auto call = std::make_unique<HostCall>();
  call->kind = kModelExecute;
  call->name = key;
  for (size_t i = 0; i < inputs.size(); i++) call->tensors.push_back(Normalize(inputs[i], "model_execute input " + std::to_string(i)));
  call->nOutputs = nOutputs;
  auto v = CallHost(std::move(call), "redisAI.model_execute");
  return v.toTensorVector();
}

c10::List<c10::IValue> AsList(const c10::IValue& v) {
  if (!v.isList()) throw std::runtime_error("redis.asList expects a list, got " + v.type()->str());
  return v.toList();
}

// CONSERVATIVE: the ops have side effects, so the JIT must neither drop an unused
// redis.execute("SET", ...) nor reorder calls.
#define RESPAI_OP_OPTIONS torch::RegisterOperators::options().aliasAnalysis(c10::AliasAnalysisKind::CONSERVATIVE)
static auto registry =
    torch::RegisterOperators()
        .op("redis::execute(str cmd, str[] args) -> Any", &RedisExecute, RESPAI_OP_OPTIONS)
        .op("redis::asList(Any value) -> Any[]", &AsList, RESPAI_OP_OPTIONS)
        .op("redisAI::model_execute(str key, Tensor[] inputs, int n_outputs) -> Tensor[]", &ModelExecute, RESPAI_OP_OPTIONS);

// `redis` and `redisAI` name the ops above in script source, as in RedisAI; `torch` as usual.
struct ScriptResolver : torch::jit::Resolver {
  std::shared_ptr<torch::jit::SugaredValue> resolveValue(const std::string& name, torch::jit::GraphFunction&,
                                                         const torch::jit::SourceRange&) override {
    if (name == "torch") return std::make_shared<torch::jit::BuiltinModule>("aten");
    if (name == "redis") return std::make_shared<torch::jit::BuiltinModule>("redis");
    if (name == "redisAI") return std::make_shared<torch::jit::BuiltinModule>("redisAI");
    return nullptr;
  }
  c10::TypePtr resolveType(const std::string&, const torch::jit::SourceRange&) override { return nullptr; }
};

// ---- scripts: compile and run -------------------------------------------------------------------

struct ScriptHandle {
  std::shared_ptr<torch::jit::CompilationUnit> cu;
  std::mutex mu;
  std::shared_ptr<torch::jit::CompilationUnit> Get() {
    std::lock_guard<std::mutex> l(mu);
    if (!cu) throw std::runtime_error("the script was disposed");
    return cu;
  }
};

// The parameter kinds the engine binds arguments by (ScriptParamType in the SPI).
std::string ParamKind(const c10::TypePtr& t) {
  switch (t->kind()) {
    case c10::TypeKind::TensorType: return "Tensor";
    case c10::TypeKind::IntType: return "int";
    case c10::TypeKind::FloatType: return "float";
    case c10::TypeKind::StringType: return "str";
    case c10::TypeKind::BoolType: return "bool";
    case c10::TypeKind::ListType: {
      auto e = t->castRaw<c10::ListType>()->getElementType();
      switch (e->kind()) {
        case c10::TypeKind::TensorType: return "List[Tensor]";
        case c10::TypeKind::IntType: return "List[int]";
        case c10::TypeKind::FloatType: return "List[float]";
        case c10::TypeKind::StringType: return "List[str]";
        default: return "other";
      }
    }
    default: return "other";
  }
}

struct CompileJob : Job {
  std::string source;
  std::shared_ptr<torch::jit::CompilationUnit> cu;
  using Job::Job;

  void Execute() override {
    cu = std::make_shared<torch::jit::CompilationUnit>();
    cu->define(c10::nullopt, source, std::make_shared<ScriptResolver>(), nullptr);
  }
  Napi::Value Result(Napi::Env env) override {
    auto* h = new ScriptHandle();
    h->cu = cu;
    auto obj = Napi::Object::New(env);
    obj.Set("handle", Napi::External<ScriptHandle>::New(env, h, [](Napi::Env, ScriptHandle* p) { delete p; }));
    auto fns = Napi::Array::New(env);
    uint32_t i = 0;
    for (auto* f : cu->get_functions()) {
      auto fo = Napi::Object::New(env);
      fo.Set("name", f->name());
      auto params = Napi::Array::New(env);
      uint32_t j = 0;
      for (const auto& a : f->getSchema().arguments()) {
        auto p = Napi::Object::New(env);
        p.Set("name", a.name());
        p.Set("type", a.type()->annotation_str());
        p.Set("kind", ParamKind(a.type()));
        p.Set("hasDefault", Napi::Boolean::New(env, a.default_value().has_value()));
        params.Set(j++, p);
      }
      fo.Set("params", params);
      fns.Set(i++, fo);
    }
    obj.Set("functions", fns);
    return obj;
  }
};

Napi::Value CompileScript(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "compileScript(source: string)");
    auto* job = new CompileJob(env);
    job->source = info[0].As<Napi::String>().Utf8Value();
    return Submit(env, job);
  });
}

ScriptHandle* ScriptArg(const Napi::Value& v) {
  if (!v.IsExternal()) throw std::runtime_error("expected a script handle");
  return v.As<Napi::External<ScriptHandle>>().Data();
}

// A script argument, tagged by the JS side after binding it to the parameter's type:
// [0, tensor] [1, bigint] [2, number] [3, string|Buffer] [4, boolean] [5, elemTag, items[]] [6]
struct Arg {
  int tag = 6;
  InTensor tensor;
  int64_t i = 0;
  double f = 0;
  std::string s;
  bool b = false;
  int elem = 0;
  std::vector<Arg> items;
};

Arg ReadScalar(int tag, const Napi::Value& v, std::vector<Napi::Reference<Napi::Value>>& keep) {
  Arg a;
  a.tag = tag;
  switch (tag) {
    case 0: a.tensor = ReadTensor(v, keep); break;
    case 1: {
      bool lossless = false;
      if (!v.IsBigInt()) throw std::runtime_error("int argument expected");
      a.i = v.As<Napi::BigInt>().Int64Value(&lossless);
      if (!lossless) throw std::runtime_error("int argument out of range");
      break;
    }
    case 2: a.f = v.ToNumber().DoubleValue(); break;
    case 3:
      if (v.IsBuffer()) {
        auto b = v.As<Napi::Buffer<char>>();
        a.s.assign(b.Data(), b.Length());
      } else {
        a.s = v.ToString().Utf8Value();
      }
      break;
    case 4: a.b = v.ToBoolean().Value(); break;
    case 6: break;
    default: throw std::runtime_error("bad script argument tag");
  }
  return a;
}

Arg ReadArg(const Napi::Value& v, std::vector<Napi::Reference<Napi::Value>>& keep) {
  if (!v.IsArray()) throw std::runtime_error("bad script argument");
  auto arr = v.As<Napi::Array>();
  int tag = arr.Get(0u).ToNumber().Int32Value();
  if (tag != 5) return ReadScalar(tag, arr.Get(1u), keep);
  Arg a;
  a.tag = 5;
  a.elem = arr.Get(1u).ToNumber().Int32Value();
  auto items = arr.Get(2u).As<Napi::Array>();
  for (uint32_t i = 0; i < items.Length(); i++) a.items.push_back(ReadScalar(a.elem, items.Get(i), keep));
  return a;
}

c10::IValue ToIValue(const Arg& a) {
  switch (a.tag) {
    case 0: return ToTorch(a.tensor);
    case 1: return a.i;
    case 2: return a.f;
    case 3: return a.s;
    case 4: return a.b;
    case 5:
      switch (a.elem) {
        case 0: {
          c10::List<at::Tensor> l;
          for (const auto& x : a.items) l.push_back(ToTorch(x.tensor));
          return l;
        }
        case 1: {
          c10::List<int64_t> l;
          for (const auto& x : a.items) l.push_back(x.i);
          return l;
        }
        case 2: {
          c10::List<double> l;
          for (const auto& x : a.items) l.push_back(x.f);
          return l;
        }
        case 3: {
          c10::List<std::string> l;
          for (const auto& x : a.items) l.push_back(x.s);
          return l;
        }
        case 4: {
          c10::List<bool> l;
          for (const auto& x : a.items) l.push_back(x.b);
          return l;
        }
        default: throw std::runtime_error("bad list element tag");
      }
    default: return c10::IValue();
  }
}

struct RunScriptJob : Job {
  std::shared_ptr<torch::jit::CompilationUnit> cu;
  std::string fn;
  std::vector<Arg> args;
  Napi::FunctionReference host;
  std::vector<at::Tensor> outputs;
  using Job::Job;

  void Execute() override {
    auto* f = cu->find_function(c10::QualifiedName(fn));
    if (f == nullptr) throw std::runtime_error("Function " + fn + " does not exist in the given script.");
    std::vector<c10::IValue> stack;
    for (const auto& a : args) stack.push_back(ToIValue(a));
    ScriptRunCtx ctx;
    ctx.bridge = bridge;
    ctx.host = &host;
    tls_run = &ctx;
    struct Reset {
      ~Reset() { tls_run = nullptr; }
    } reset;
    c10::InferenceMode guard;
    c10::IValue result;
    try {
      result = (*f)(std::move(stack));
    } catch (const std::exception&) {
      if (ctx.hostFailed) throw HostError(ctx.hostError);
      throw;
    }
    outputs = Flatten(result, "function " + fn);
  }
  Napi::Value Result(Napi::Env env) override { return TensorsToJs(env, outputs); }
};

Napi::Value RunScript(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::unique_ptr<RunScriptJob> job(new RunScriptJob(env));
    job->cu = ScriptArg(info[0])->Get();
    job->fn = info[1].ToString().Utf8Value();
    if (!info[2].IsArray()) throw std::runtime_error("runScript: args must be an array");
    auto arr = info[2].As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) job->args.push_back(ReadArg(arr.Get(i), job->keep));
    if (!info[3].IsFunction()) throw std::runtime_error("runScript: host must be a function");
    job->host = Napi::Persistent(info[3].As<Napi::Function>());
    auto* j = job.release();
    try {
      return SubmitRun(env, j, info, 4);
    } catch (...) {
      delete j;
      throw;
    }
  });
}

Napi::Value DisposeScript(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto* h = ScriptArg(info[0]);
    std::lock_guard<std::mutex> l(h->mu);
    h->cu.reset();
    return env.Undefined();
  });
}

// ---- misc ---------------------------------------------------------------------------------------

// INTRA_OP / INTER_OP_PARALLELISM; returns warnings for the log. Interop threads can only be set
// once per process, before any inter-op work started.
Napi::Value Init(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    int intra = info[0].ToNumber().Int32Value();
    int inter = info[1].ToNumber().Int32Value();
    auto warnings = Napi::Array::New(env);
    uint32_t n = 0;
    if (intra > 0) at::set_num_threads(intra);
    if (inter > 0 && at::get_num_interop_threads() != inter) {
      try {
        at::set_num_interop_threads(inter);
      } catch (const std::exception& e) {
        warnings.Set(n++, "INTER_OP_PARALLELISM " + std::to_string(inter) + " not applied: " + Message(e));
      }
    }
    return warnings;
  });
}

Napi::Value Threads(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto obj = Napi::Object::New(env);
  obj.Set("intraOp", Napi::Number::New(env, at::get_num_threads()));
  obj.Set("interOp", Napi::Number::New(env, at::get_num_interop_threads()));
  obj.Set("parallel", Napi::String::New(env, at::get_parallel_info()));
  return obj;
}

// Tests only: compiles `def forward(self, ...)` source into a module and saves it (torch.jit.save
// format), so fixtures come from this project's own code.
Napi::Value SaveModule(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    torch::jit::Module m("__torch__.RespaiFixture");
    m.define(info[0].ToString().Utf8Value());
    std::ostringstream out;
    m.save(out);
    auto s = out.str();
    return Napi::Buffer<char>::Copy(env, s.data(), s.size());
  });
}

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(AtExit); });

  auto bridge = std::make_shared<Bridge>();
  bridge->tsfn = Tsfn::New(env, "respai-torch", 0, 1);
  bridge->tsfn.Unref(env);
  env.SetInstanceData(new AddonData{bridge});
  // Registered after the TSFN, so it runs before Node finalizes it: no post may reach it after.
  env.AddCleanupHook([bridge] {
    std::lock_guard<std::mutex> l(bridge->mu);
    bridge->closed = true;
  });

  exports.Set("version", Napi::String::New(env, kVersion));
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("threads", Napi::Function::New(env, Threads, "threads"));
  exports.Set("loadModel", Napi::Function::New(env, LoadModel, "loadModel"));
  exports.Set("runModel", Napi::Function::New(env, RunModel, "runModel"));
  exports.Set("setRunControl", Napi::Function::New(env, SetRunControl, "setRunControl"));
  exports.Set("disposeModel", Napi::Function::New(env, DisposeModel, "disposeModel"));
  exports.Set("benchForward", Napi::Function::New(env, BenchForward, "benchForward"));
  exports.Set("compileScript", Napi::Function::New(env, CompileScript, "compileScript"));
  exports.Set("runScript", Napi::Function::New(env, RunScript, "runScript"));
  exports.Set("disposeScript", Napi::Function::New(env, DisposeScript, "disposeScript"));
  exports.Set("saveModule", Napi::Function::New(env, SaveModule, "saveModule"));
  return exports;
}

}  // namespace

NODE_API_MODULE(respai_torch, InitAddon)
