/* SPDX-License-Identifier: MIT */
/*
 * Stream IDs of the test board in tests/dts/located/ (written for these
 * tests, in the shape of Linux's include/dt-bindings headers).
 */
#ifndef _DT_BINDINGS_IOMMU_BOARD_IDS_H
#define _DT_BINDINGS_IOMMU_BOARD_IDS_H

/* arm,smmu-v3.yaml: one cell, the StreamID. */
#define SMMU_CELLS		1

/* A StreamID from bus and function, as the SoC wires them. */
#define SMMU_SID(bus, fn)	(((bus) << 4) | (fn))

#define SID_DMA			SMMU_SID(1, 0)
/* The second DMA channel was meant to be SMMU_SID(1, 1). */
#define SID_DMA_CH1		SMMU_SID(1, 0)
#define SID_ISP			SMMU_SID(2, 0)
#define SID_VPU			SMMU_SID(3, 0)

#endif
