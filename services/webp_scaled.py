"""Large lossy WebP images decoded reduced by libwebp's own scaling, as libjpeg's draft mode does for JPEG: Pillow has
no draft for WebP and decodes whole frames (a 27 MP WebP would take 108 MB).

libwebp rescales row by row while decoding a lossy image, so only the reduced picture is held. It is reached through
ctypes where the system's libwebp is installed (Debian's libwebp7, as .ci/run installs it); without it, or for a
lossless or animated WebP (libwebp holds a lossless image whole anyway), `decode_reduced` gives None and the caller
decodes as usual within the budget.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from ctypes import POINTER, c_int, c_size_t, c_uint8, c_uint32, c_void_p

from PIL import Image

_ABI_VERSION = 0x0209  # WEBP_DECODER_ABI_VERSION of libwebp 1.x: libwebp checks only its major byte
_MODE_RGB, _MODE_RGBA = 0, 1  # WEBP_CSP_MODE
_LOSSY = 1  # WebPBitstreamFeatures.format: 0 mixed or undefined, 1 lossy, 2 lossless


class _Features(ctypes.Structure):
    _fields_ = [("width", c_int), ("height", c_int), ("has_alpha", c_int), ("has_animation", c_int),
                ("format", c_int), ("pad", c_uint32 * 5)]  # fmt: skip


class _RGBA(ctypes.Structure):
    _fields_ = [("rgba", POINTER(c_uint8)), ("stride", c_int), ("size", c_size_t)]


class _YUVA(ctypes.Structure):
    _fields_ = [("y", c_void_p), ("u", c_void_p), ("v", c_void_p), ("a", c_void_p), ("y_stride", c_int),
                ("u_stride", c_int), ("v_stride", c_int), ("a_stride", c_int), ("y_size", c_size_t),
                ("u_size", c_size_t), ("v_size", c_size_t), ("a_size", c_size_t)]  # fmt: skip


class _Buffers(ctypes.Union):
    _fields_ = [("RGBA", _RGBA), ("YUVA", _YUVA)]


class _Output(ctypes.Structure):
    _fields_ = [("colorspace", c_int), ("width", c_int), ("height", c_int), ("is_external_memory", c_int),
                ("u", _Buffers), ("pad", c_uint32 * 4), ("private_memory", c_void_p)]  # fmt: skip


class _Options(ctypes.Structure):
    _fields_ = [(name, c_int) for name in (
        "bypass_filtering", "no_fancy_upsampling", "use_cropping", "crop_left", "crop_top", "crop_width",
        "crop_height", "use_scaling", "scaled_width", "scaled_height", "use_threads", "dithering_strength", "flip",
        "alpha_dithering_strength")] + [("pad", c_uint32 * 5)]  # fmt: skip


class _Config(ctypes.Structure):
    _fields_ = [("input", _Features), ("output", _Output), ("options", _Options)]


def _library() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("webp")
    if name is None:
        return None
    try:
        library = ctypes.CDLL(name)
    except OSError:
        return None
    library.WebPInitDecoderConfigInternal.argtypes = [POINTER(_Config), c_int]
    library.WebPGetFeaturesInternal.argtypes = [ctypes.c_char_p, c_size_t, POINTER(_Features), c_int]
    library.WebPDecode.argtypes = [ctypes.c_char_p, c_size_t, POINTER(_Config)]
    library.WebPFreeDecBuffer.argtypes = [POINTER(_Output)]
    library.WebPFreeDecBuffer.restype = None
    return library


_libwebp = _library()
AVAILABLE = _libwebp is not None


def decode_reduced(data: bytes, size: tuple[int, int]) -> Image.Image | None:
    """The lossy WebP in `data` decoded straight to `size` (RGB, or RGBA with alpha); None without libwebp, for a
    lossless or animated WebP. Raises ValueError for data libwebp cannot decode."""
    if _libwebp is None:
        return None
    config = _Config()
    if not _libwebp.WebPInitDecoderConfigInternal(ctypes.byref(config), _ABI_VERSION):
        return None  # a libwebp of another major version
    if _libwebp.WebPGetFeaturesInternal(data, len(data), ctypes.byref(config.input), _ABI_VERSION):
        raise ValueError("not a WebP libwebp can read")
    if config.input.format != _LOSSY or config.input.has_animation:
        return None
    mode = "RGBA" if config.input.has_alpha else "RGB"
    config.output.colorspace = _MODE_RGBA if config.input.has_alpha else _MODE_RGB
    config.options.use_scaling = 1
    config.options.scaled_width, config.options.scaled_height = size
    if _libwebp.WebPDecode(data, len(data), ctypes.byref(config)):
        raise ValueError("broken WebP data")
    try:
        pixels = config.output.u.RGBA
        raw = ctypes.string_at(pixels.rgba, pixels.size)
        return Image.frombuffer(mode, size, raw, "raw", mode, pixels.stride, 1).copy()
    finally:
        _libwebp.WebPFreeDecBuffer(ctypes.byref(config.output))
