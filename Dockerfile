# precall image: `serve` by default; the same image runs `simulate` and `fleet`
# (docker-compose.yml). TypeScript runs through tsx; the only build step is the browser console
# (Vite), done here and left out of the runtime image's dependencies.

# Dependencies in the full node:20 image, which has python3/make/g++ in case better-sqlite3
# has to compile from source (no prebuilt binary for the platform).
FROM node:20-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci's prepare step builds the console, so its sources come first.
COPY console ./console
COPY src/i18n/format.ts ./src/i18n/format.ts
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/data \
    MQTT_PORT=1883 \
    HTTP_PORT=8080
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/console/dist ./console/dist
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY devices ./devices
COPY simulator ./simulator
# The password file of the `scale` profile's Mosquitto is made with this image.
COPY scripts/compose/mosquitto-passwd.mjs ./scripts/compose/mosquitto-passwd.mjs
# Named volumes start with the image's ownership of these directories: writable by `node`.
RUN mkdir -p /data /fleet /broker-auth && chown node:node /data /fleet /broker-auth
USER node
VOLUME ["/data"]
EXPOSE 1883 8080
# Node flags of src/node-flags.ts (a larger young generation for the per-reading garbage).
ENTRYPOINT ["node", "--max-semi-space-size=64", "bin/precall.js"]
CMD ["serve"]
