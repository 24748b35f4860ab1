{
  "variables": {
    "tflite_dir": "<!(node -p \"require('path').dirname(require.resolve('node-tflite/package.json'))\")"
  },
  "targets": [
    {
      "target_name": "respai_tflite",
      "sources": ["addon.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(tflite_dir)/tflite/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O2", "-Wno-unused-parameter"],
      "libraries": ["-ldl"]
    }
  ]
}
