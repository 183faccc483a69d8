/* vcam.h -- the virtual camera of the face fixtures: the pinhole model that
 * tools/mkfaces.c uses to place a face into a camera frame at a distance,
 * and that the recognition core uses the other way round, to estimate the
 * distance of a face from the width of its detection box.  Constants and
 * two inline conversions only; docs/faces.md explains the model. */
#ifndef CAMSIM_VCAM_H
#define CAMSIM_VCAM_H

/* The frame: 640x480 pixels, 60 degrees horizontal field of view. */
#define VCAM_W 640
#define VCAM_H 480
#define VCAM_HFOV_DEG 60.0
/* Focal length in pixels: (VCAM_W / 2) / tan(VCAM_HFOV_DEG / 2). */
#define VCAM_FOCAL_PX 554.2562584220408

/* A face box as the detector draws it (SSD MobileNetV1 of face-api) is
 * this wide in the scene, in metres. */
#define VCAM_FACE_WIDTH_M 0.16

/* Where the fixtures put the centre of the face box in the frame. */
#define VCAM_FACE_CX 320.0
#define VCAM_FACE_CY 200.0

/* Box width in pixels of a face at distance_m metres: 177.4 px at 0.5 m,
 * 88.7 px at 1.0 m, 35.5 px at 2.5 m. */
static inline double vcam_box_width_px(double distance_m)
{
	return VCAM_FOCAL_PX * VCAM_FACE_WIDTH_M / distance_m;
}

/* Distance in metres of a face whose box is box_width_px wide. */
static inline double vcam_distance_m(double box_width_px)
{
	return VCAM_FOCAL_PX * VCAM_FACE_WIDTH_M / box_width_px;
}

#endif
