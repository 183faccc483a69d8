/* vcam.h -- the virtual camera (D48, docs/faces.md): the pinhole model by
 * which tools/mkfaces.c places a face into the fixtures' camera frame at a
 * distance, and by which the device (device_hw.c) estimates the distance
 * of a face from the width of its detection box.  Constants and inline
 * conversions only; no I/O, nothing of devices or images. */
#ifndef CAMSIM_VCAM_H
#define CAMSIM_VCAM_H

#include <math.h>

/* The fixtures' frame: 640x480 pixels, 60 degrees horizontal field of
 * view.  The device's camera has the same field of view at whatever width
 * its frames have. */
#define VCAM_W 640
#define VCAM_H 480
#define VCAM_HFOV_DEG 60.0

/* A face box as the detector draws it (SSD MobileNetV1 of face-api) is
 * this wide in the scene, in metres. */
#define VCAM_FACE_WIDTH_M 0.16

/* Where the fixtures put the centre of the face box in the frame. */
#define VCAM_FACE_CX 320.0
#define VCAM_FACE_CY 200.0

/* Focal length in pixels of a frame frame_w pixels wide: (frame_w / 2) /
 * tan(VCAM_HFOV_DEG / 2); 554.26 px at VCAM_W. */
static inline double vcam_focal_px(int frame_w)
{
	return frame_w / (2 * tan(M_PI / 6)); /* M_PI / 6: half of 60° */
}

/* Box width in pixels of a face at distance_m metres in a frame frame_w
 * pixels wide: at VCAM_W 177.4 px at 0.5 m, 88.7 px at 1.0 m, 35.5 px at
 * 2.5 m. */
static inline double vcam_box_width_px(int frame_w, double distance_m)
{
	return vcam_focal_px(frame_w) * VCAM_FACE_WIDTH_M / distance_m;
}

/* Distance in metres of a face whose box is box_width_px (> 0) wide in a
 * frame frame_w pixels wide. */
static inline double vcam_distance_m(int frame_w, double box_width_px)
{
	return vcam_focal_px(frame_w) * VCAM_FACE_WIDTH_M / box_width_px;
}

#endif
