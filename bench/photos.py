"""Benchmark: the thumbnail and the large size of a 12-megapixel photo, as the worker makes them.

    python bench/photos.py [--runs 5]

Makes a 4000x3000 JPEG as a phone writes one (quality 92, EXIF orientation 6 so it must be turned, GPS
coordinates, a picture with detail so it compresses like a photo, about 3 MB), then times
`hub.services.photo_sizes.sizes_of` on it: header check, decoding, turning upright, and encoding the 320 px and
1600 px JPEGs without metadata. Prints each run's wall-clock and CPU time, the medians and the peak memory of
the process (which includes making the test photo).
Requirement: under 1 s.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from io import BytesIO

from PIL import ExifTags, Image, ImageDraw, ImageFilter

from hub.services.photo_sizes import sizes_of


def phone_photo() -> bytes:
    picture = Image.effect_noise((4000, 3000), 40).convert("RGB").filter(ImageFilter.GaussianBlur(1))
    draw = ImageDraw.Draw(picture)
    for step in range(0, 4000, 50):
        draw.line([(step, 0), (4000 - step, 3000)], fill=(step % 255, 120, 255 - step % 255), width=7)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (52.0, 22.0, 30.0), 3: "E", 4: (4.0, 53.0, 0.0)})
    out = BytesIO()
    picture.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    data = phone_photo()
    print(f"photo: 4000x3000 JPEG, {len(data) / 1e6:.1f} MB, EXIF orientation 6 and GPS")
    seconds, cpu = [], []
    for run in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        (width, height), sized = sizes_of(data)
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        made = ", ".join(f"{name} {len(jpeg) // 1024} kB" for name, jpeg in sized.items())
        print(f"run {run + 1}: {seconds[-1]:.3f} s, CPU {cpu[-1]:.3f} s ({width}x{height} upright; {made})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"median {statistics.median(seconds):.3f} s (CPU {statistics.median(cpu):.3f} s), "
        f"slowest {max(seconds):.3f} s; peak RSS {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
