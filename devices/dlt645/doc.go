// Package dlt645 is a pure codec for DL/T 645-2007 meter frames: framing,
// the data identifiers we read, remote control (trip / close / protect) and
// the meters' abnormal-response error word. It does no I/O beyond ReadFrame,
// which pulls exactly one frame off a byte stream, so transports (RS-485,
// TCP gateways) and simulators can share it.
//
// Wire layout:
//
//	[FE FE FE FE] 68 A0..A5 68 C L DATA... CS 16
//
// Addresses are 6 BCD bytes sent low byte first, every data byte is sent
// +0x33, and CS is the byte sum (mod 256) from the first 68 through the data.
// Values here are integers in the identifier's smallest unit (e.g. 0.01 kWh):
// money and energy never pass through floats.
package dlt645
