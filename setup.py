"""Build of the optional C accelerator (regtest/consensus/_accel.c); everything else is in
pyproject.toml. `optional=True`: without a C compiler, Python headers or OpenSSL's libcrypto
headers the build skips it with a warning and the pure-Python engine is used."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "regtest.consensus._accel",
            sources=["regtest/consensus/_accel.c"],
            libraries=["crypto"],
            extra_compile_args=["-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
            optional=True,
        )
    ]
)
