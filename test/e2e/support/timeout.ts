// End-to-end steps wait on real controllers and processes; a single step may take a minute.
import { jest } from '@jest/globals';

jest.setTimeout(180_000);
